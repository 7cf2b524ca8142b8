import { pino, type Logger } from "pino";

export type { Logger };

/** Paths pino blanks out wherever they appear in a log line. */
export const REDACT_PATHS = [
  "token",
  "*.token",
  "privateKey",
  "*.privateKey",
  "secret",
  "*.secret",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "req.headers.authorization",
  "env.PRIVATE_KEY",
  "env.WEBHOOK_SECRET",
  "env.CCC_API_TOKEN",
];

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? "ccc",
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  });
}

/** A logger that drops everything, for tests and library defaults. */
export const silentLogger: Logger = pino({ level: "silent" });
