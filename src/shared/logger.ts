import { context, isSpanContextValid, trace } from "@opentelemetry/api";
import { pino, type DestinationStream, type LogFn, type Logger, type LoggerOptions } from "pino";
import { prettyFactory } from "pino-pretty";
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
  "env.REDIS_PASSWORD",
  "env.REDIS_SENTINEL_PASSWORD",
  "*.password",
  "*.sentinelPassword",
  "env.GITHUB_TOKEN",
  "env.GH_TOKEN",
  "env.ANTHROPIC_API_KEY",
];

/** `LOG_FORMAT`: `auto` is pretty on a terminal and JSON anywhere else (a pipe, systemd, Docker, a test). */
export type LogFormat = "auto" | "json" | "pretty";

/** What `auto` means for this output; an unknown setting counts as `auto` (the env schemas reject it first). */
export function resolveLogFormat(setting: string | undefined, isTty: boolean): "json" | "pretty" {
  if (setting === "json" || setting === "pretty") return setting;
  return isTty ? "pretty" : "json";
}

export interface CreateLoggerOptions {
  level?: string;
  name?: string;
  /** @defaultValue `LOG_FORMAT`, else `auto` */
  format?: LogFormat;
  /** Where lines go; stdout when omitted. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

/** The `name` a library gave its child logger (Probot's `probot`, `octokit`, `event`), as a path. */
const MODULE = Symbol("ccc.logger.module");
type Named = Logger & { [MODULE]?: string };

/**
 * The project's pino logger. Two layers keep secrets out: known fields are redacted by path,
 * and every finished line goes through the one redaction table (`redact.ts`), so a secret
 * inside an error message or an unexpected field is caught too. Pretty lines are made from
 * the redacted JSON line, in process, so they are scrubbed alike.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const settings: LoggerOptions = {
    name: options.name ?? "ccc",
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    hooks: { streamWrite: redactSecrets, logMethod: foldParagraphs() },
    // One `name` per line: a child's `name` binding would be a second one; it goes out as `module`.
    // A line written inside a span names it, so a trace backend and the logs meet.
    mixin: (_object, _level, logger) => {
      const module = (logger as Named)[MODULE];
      return { ...(module ? { module } : {}), ...activeSpanIds() };
    },
  };
  const isTty = options.destination ? false : Boolean(process.stdout.isTTY);
  const format = resolveLogFormat(options.format ?? process.env.LOG_FORMAT, isTty);
  const out = options.destination ?? pino.destination({ dest: 1, sync: true });
  const logger = pino(settings, format === "pretty" ? prettyStream(out) : out);
  return withOneName(logger);
}

/**
 * `trace_id` and `span_id` of the active span, when there is a valid one. With tracing off the
 * active context is always the root (the API's no-op context manager): one lookup, no ids.
 */
export function activeSpanIds(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && isSpanContextValid(spanContext) ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}

/**
 * pino-pretty's formatter as a synchronous stream: each redacted JSON line in, a readable
 * line out. Its worker transport would skip `streamWrite`; its stream form writes a tick
 * late, and `ccc` exits right after its last line.
 */
function prettyStream(out: DestinationStream): DestinationStream {
  const prettify = prettyFactory({ ignore: "pid,hostname", translateTime: "SYS:HH:MM:ss.l" });
  return { write: (line: string) => void out.write(prettify(line)) };
}

/** A child bound with `{ name }` logs it as `module` (`probot/octokit` for a child of a child). */
function withOneName(root: Logger): Logger {
  type Child = (this: Named, bindings: Record<string, unknown>, options?: object) => Named;
  const child = root.child as unknown as Child;
  const named: Child = function (bindings, childOptions) {
    const { name, ...rest } = bindings;
    const instance = child.call(this, name === undefined ? bindings : rest, childOptions);
    if (name !== undefined) instance[MODULE] = this[MODULE] ? `${this[MODULE]}/${String(name)}` : String(name);
    return instance;
  };
  root.child = named as unknown as Logger["child"];
  return root;
}

/**
 * Probot's setup mode logs its welcome banner a line at a time between blank lines, nine lines
 * of sentence fragments in JSON. Plain-text lines between two blank ones become one line.
 */
function foldParagraphs() {
  let open: { logger: Logger; method: LogFn; lines: string[] } | undefined;
  const flush = () => {
    const paragraph = open;
    open = undefined;
    if (paragraph && paragraph.lines.length > 0) paragraph.method.call(paragraph.logger, paragraph.lines.join(" "));
  };
  return function logMethod(this: Logger, args: Parameters<LogFn>, method: LogFn): void {
    const text = args.length === 1 && typeof args[0] === "string" ? args[0].trim() : undefined;
    if (text === "") {
      if (open) flush();
      else {
        open = { logger: this, method, lines: [] };
        // A blank line nobody closes holds nothing back past this tick.
        setImmediate(flush).unref();
      }
      return;
    }
    if (open && open.logger === this && text !== undefined) {
      open.lines.push(text);
      return;
    }
    flush();
    method.apply(this, args);
  };
}

/** A logger that drops everything, for tests and library defaults. */
export const silentLogger: Logger = pino({ level: "silent" });
