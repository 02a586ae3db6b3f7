// One logger for the whole process: structured JSON lines through winston. Callers pass the
// object they act on (`{ tenant: 'a' }`, `{ node: 'n1' }`) so every line names it.
import winston from 'winston';

export type Logger = winston.Logger;

const level = process.env.LOG_LEVEL ?? 'info';

export const rootLogger: Logger = winston.createLogger({
  level,
  format: winston.format.combine(
    winston.format.timestamp(),
    winston.format.errors({ stack: true }),
    winston.format.json(),
  ),
  defaultMeta: { app: 'softtenant' },
  // stderr keeps stdout free for the CLI's real output (expand, render).
  transports: [
    new winston.transports.Console({
      stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'],
    }),
  ],
});

export function logger(component: string, meta: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ component, ...meta });
}
