// Placeholder until the operator subcommand lands.
export function run(_args: string[]): Promise<number> {
  return Promise.reject(new Error('softtenant operator: not built yet'));
}
