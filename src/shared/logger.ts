import { pino, type DestinationStream, type Logger } from "pino";
import { redactSecrets } from "./redact.js";

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
  "*.headers.authorization",
  "req.headers.authorization",
  "request.headers.authorization",
  "*.request.headers.authorization",
  "env.PRIVATE_KEY",
  "env.WEBHOOK_SECRET",
  "env.CCC_API_TOKEN",
  "env.CCC_TASK_SECRET",
  "env.REDIS_URL",
  "env.GITHUB_TOKEN",
  "env.GH_TOKEN",
  "env.ANTHROPIC_API_KEY",
];

export interface CreateLoggerOptions {
  level?: string;
  name?: string;
  /** Where lines go; stdout when omitted. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

/**
 * The project's pino logger. Two layers keep secrets out: known fields are redacted by path,
 * and every finished line goes through the one redaction table (`redact.ts`), so a secret
 * inside an error message or an unexpected field is caught too.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const settings = {
    name: options.name ?? "ccc",
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    hooks: { streamWrite: redactSecrets },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** A logger that drops everything, for tests and library defaults. */
export const silentLogger: Logger = pino({ level: "silent" });
