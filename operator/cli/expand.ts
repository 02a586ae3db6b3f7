// Placeholder until the expand subcommand lands.
export function run(_args: string[]): Promise<number> {
  return Promise.reject(new Error('softtenant expand: not built yet'));
}
