/**
 * One line of `claude -p … --output-format stream-json --verbose`, reduced to what the
 * cluster acts on. The CLI adds fields and line types over time; anything this union does
 * not name arrives as `unparsed` rather than as an error.
 */
export type StreamEvent = InitEvent | AssistantEvent | ToolResultEvent | ApiRetryEvent | RateLimitEvent | ResultEvent | UnparsedEvent;

/** `system/init`: the session has started. */
export interface InitEvent {
  type: "init";
  sessionId: string;
  model: string;
  tools: string[];
}

/** A tool call Claude made, with its input shrunk to one short line (`src/a.ts`, `npm test`). */
export interface ToolUseSummary {
  name: string;
  summary: string;
}

/** An `assistant` line. The CLI writes one line per content block, so most carry either text or one tool use. */
export interface AssistantEvent {
  type: "assistant";
  text: string;
  toolUses: ToolUseSummary[];
  /**
   * Set on the synthetic messages the CLI writes for its own failures (model `<synthetic>`):
   * `authentication_failed`, `rate_limit`, `invalid_request`, `server_error`, `billing_error`, …
   */
  error?: string;
}

/** A `user` line carrying tool results; `isError` when any of them failed. */
export interface ToolResultEvent {
  type: "tool-result";
  isError: boolean;
}

/** `system/api_retry`: an API call failed and the CLI will retry after `delayMs`. */
export interface ApiRetryEvent {
  type: "api-retry";
  attempt: number;
  maxRetries: number;
  delayMs: number;
  /** HTTP status; absent for connection errors that had no response. */
  errorStatus?: number;
  /** The CLI's category: `rate_limit`, `overloaded`, `server_error`, `authentication_failed`, `unknown`, … */
  error?: string;
}

/** `rate_limit_event` (claude.ai subscriptions only). */
export interface RateLimitEvent {
  type: "rate-limit";
  /** `allowed`, `allowed_warning` or `rejected`. */
  status: string;
  /** Epoch **seconds**, as the CLI sends it. */
  resetsAt?: number;
}

/** The final `result` line. `isError: true` is a failure even when `subtype` is `success`. */
export interface ResultEvent {
  type: "result";
  /** `success`, `error_max_turns`, `error_during_execution`, `error_max_budget_usd`, … */
  subtype: string;
  isError: boolean;
  /** The final answer, or the error text; for error subtypes the CLI's `errors` joined. */
  text: string;
  turns: number;
  costUsd: number;
  durationMs: number;
  sessionId?: string;
  /** HTTP status of the API error that ended the run, when there was one. */
  apiErrorStatus?: number;
  /** Tokens of the whole run; input counts cache reads and writes too. */
  inputTokens?: number;
  outputTokens?: number;
}

/** A line that is not JSON, or a type the cluster does not act on (hooks, compaction, …). */
export interface UnparsedEvent {
  type: "unparsed";
  raw: string;
}

/** `Edit src/a.ts`: the form the tracking comment shows as the current tool. */
export function describeToolUse(tool: ToolUseSummary): string {
  return tool.summary ? `${tool.name} ${tool.summary}` : tool.name;
}
