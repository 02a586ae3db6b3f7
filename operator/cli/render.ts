// Placeholder until the render subcommand lands.
export function run(_args: string[]): Promise<number> {
  return Promise.reject(new Error('softtenant render: not built yet'));
}
