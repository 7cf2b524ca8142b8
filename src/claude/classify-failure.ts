import { parseResetTime } from "./parse-reset-time.js";
import type { StreamEvent } from "./stream-event.js";

/** Why a Claude run did not succeed. `kind` decides what the agent does next (ARCHITECTURE.md, failure classes). */
export interface ClaudeFailure {
  kind: "usage-limit" | "session-expired" | "max-turns" | "network" | "invalid-request" | "timeout" | "cancelled" | "crash" | "unknown";
  /** One short sentence saying what happened, shown on the issue. */
  message: string;
  /** usage-limit only: when the limit resets, epoch ms. Absent when the CLI did not say; the caller picks a default wait. */
  resetAt?: number;
  /**
   * The task itself is not at fault: the same task can succeed when run again later (after
   * the reset, a new login, a network recovery). False when a rerun would fail the same way.
   */
  retryable: boolean;
  /**
   * The `--resume` session is not on this machine (the CLI said "No conversation found with
   * session ID"): nothing ran, and a fresh run can take its place at once.
   */
  sessionNotFound?: boolean;
}

export interface ClassifyFailureInput {
  exitCode: number | null;
  events: StreamEvent[];
  /** The tail of stderr. */
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  /** Epoch ms, for wall-clock reset times such as "resets 5pm (Europe/Warsaw)". */
  now: number;
}

// Matched only against the CLI's own error texts (result text of a failed run, synthetic
// assistant messages, stderr), never against Claude's prose: Claude may well be writing
// code that mentions "usage limit reached".
const SESSION_EXPIRED =
  /not logged in|please run \/login|run \/login|invalid api key|missing api key|oauth token has (expired|been revoked)|authentication_error|failed to authenticate/i;
const USAGE_LIMIT =
  /usage limit reached|hit your .*limit|reached your specified api usage limits|rate_limit_error|request rejected \(429\)|credit balance (is )?too low|out of (extra )?usage/i;
/** The CLI's words (2.1.x) for a `--resume` id it has no conversation for; it then exits 1. */
const SESSION_NOT_FOUND = /No conversation found with session ID/;
const INVALID_REQUEST = /invalid_request_error|API Error: 400\b|prompt is too long/i;
const NETWORK =
  /ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|EPIPE|ConnectionRefused|ConnectionReset|connection error|fetch failed|socket hang up|unable to connect to api|request timed out|overloaded|API Error: 5\d\d\b/i;

/** Classifies a finished run. Returns undefined when it succeeded. Pure. */
export function classifyFailure(input: ClassifyFailureInput): ClaudeFailure | undefined {
  const { exitCode, events, stderr, now } = input;
  if (input.aborted) return { kind: "cancelled", message: "the run was cancelled", retryable: false };
  if (input.timedOut) return { kind: "timeout", message: "Claude did not finish within the time limit and was stopped", retryable: false };

  const result = lastOf(events, "result");
  if (result && !result.isError && exitCode === 0) return undefined;

  const errorTexts = [
    ...(result?.isError ? [result.text] : []),
    ...events.flatMap((event) => (event.type === "assistant" && event.error !== undefined ? [event.text] : [])),
    stderr,
  ].filter((text) => text.trim() !== "");
  const errorCodes = new Set(events.flatMap((event) => (event.type === "assistant" && event.error ? [event.error] : [])));
  const retries = events.filter((event) => event.type === "api-retry");
  const lastRetry = retries.at(-1);
  const status = result?.apiErrorStatus ?? lastRetry?.errorStatus;
  const found = (pattern: RegExp) => errorTexts.find((text) => pattern.test(text));
  const cliSaid = (fallback: string) => quote(errorTexts[0] ?? fallback);

  if (found(SESSION_NOT_FOUND) !== undefined) {
    return { kind: "crash", message: `the Claude session to resume is gone: ${cliSaid("no conversation found")}`, retryable: true, sessionNotFound: true };
  }

  const authText = found(SESSION_EXPIRED);
  if (authText !== undefined || errorCodes.has("authentication_failed") || status === 401) {
    const said = quote(authText ?? errorTexts[0] ?? "authentication failed");
    return { kind: "session-expired", message: `Claude session expired: ${said}`, retryable: true };
  }

  const rateLimit = lastOf(events, "rate-limit");
  const limitText = found(USAGE_LIMIT);
  const rejected = rateLimit?.status === "rejected";
  if (limitText !== undefined || rejected || status === 429 || errorCodes.has("rate_limit") || errorCodes.has("billing_error")) {
    // The CLI's text first (it names the limit that bit), then the rate-limit event, then any error text.
    const fromText = limitText !== undefined ? parseResetTime(limitText, now) : undefined;
    const fromEvent = rejected && rateLimit.resetsAt !== undefined ? rateLimit.resetsAt * 1000 : undefined;
    const resetAt = fromText ?? fromEvent ?? errorTexts.map((text) => parseResetTime(text, now)).find((time) => time !== undefined);
    if (resetAt === undefined) return { kind: "usage-limit", message: `Claude usage limit reached: ${cliSaid("rate limited")}`, retryable: true };
    return { kind: "usage-limit", message: `Claude usage limit reached; resets at ${new Date(resetAt).toISOString()}`, resetAt, retryable: true };
  }

  if (result?.subtype === "error_max_turns") {
    return { kind: "max-turns", message: `Claude stopped at the max turns limit after ${result.turns} turns`, retryable: false };
  }

  if (found(INVALID_REQUEST) !== undefined || status === 400 || errorCodes.has("invalid_request") || errorCodes.has("model_not_found")) {
    return { kind: "invalid-request", message: `the Claude API rejected the request: ${cliSaid("invalid request")}`, retryable: false };
  }

  const serverError = status !== undefined && status >= 500;
  if (found(NETWORK) !== undefined || serverError || errorCodes.has("server_error") || errorCodes.has("overloaded") || retries.length > 0) {
    const tried = retries.length > 0 ? ` after ${retries.length} retries` : "";
    return { kind: "network", message: `could not reach the Claude API${tried}: ${cliSaid("network error")}`, retryable: true };
  }

  if (!result) {
    const how = exitCode === null ? "was killed by a signal" : `exited with code ${exitCode}`;
    const lastLine = stderr.trim().split("\n").at(-1)?.trim();
    return { kind: "crash", message: `claude ${how} before reporting a result${lastLine ? `: ${quote(lastLine)}` : ""}`, retryable: true };
  }
  if (!result.isError) {
    // A clean result line but a failing exit code: trust the exit code, the work may be incomplete.
    return { kind: "crash", message: `claude reported success but exited with code ${exitCode ?? "null"}`, retryable: true };
  }
  return { kind: "unknown", message: `Claude failed (${result.subtype}): ${cliSaid("no details")}`, retryable: false };
}

function lastOf<T extends StreamEvent["type"]>(events: StreamEvent[], type: T): Extract<StreamEvent, { type: T }> | undefined {
  return events.findLast((event): event is Extract<StreamEvent, { type: T }> => event.type === type);
}

/** First line of a CLI message, capped: failure messages go into issue comments. */
function quote(text: string): string {
  const line = text.trim().split("\n")[0]?.trim() ?? "";
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
