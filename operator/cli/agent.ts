// Placeholder until the agent subcommand lands.
export function run(_args: string[]): Promise<number> {
  return Promise.reject(new Error('softtenant agent: not built yet'));
}
