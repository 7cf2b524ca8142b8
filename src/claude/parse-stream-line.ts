import { z } from "zod";
import type { StreamEvent, ToolUseSummary } from "./stream-event.js";

// Schemas name only the fields the cluster reads; every object is loose because the CLI
// adds fields in most releases, and a new field must never turn a line into `unparsed`.

const initSchema = z.looseObject({
  type: z.literal("system"),
  subtype: z.literal("init"),
  session_id: z.string(),
  model: z.string().optional(),
  tools: z.array(z.string()).optional(),
});

const contentBlockSchema = z.looseObject({
  type: z.string(),
  /** `text` blocks. */
  text: z.string().optional(),
  /** `tool_use` blocks. */
  name: z.string().optional(),
  input: z.record(z.string(), z.unknown()).optional(),
  /** `tool_result` blocks; absent means it succeeded. */
  is_error: z.boolean().optional(),
});

const messageLineSchema = z.looseObject({
  type: z.enum(["assistant", "user"]),
  message: z.looseObject({ content: z.union([z.string(), z.array(contentBlockSchema)]) }),
  /** Only on the CLI's synthetic failure messages. */
  error: z.string().optional(),
});

const apiRetrySchema = z.looseObject({
  type: z.literal("system"),
  subtype: z.literal("api_retry"),
  attempt: z.number(),
  max_retries: z.number(),
  retry_delay_ms: z.number(),
  /** null for connection errors without an HTTP response. */
  error_status: z.number().nullable().optional(),
  error: z.string().nullable().optional(),
});

const rateLimitSchema = z.looseObject({
  type: z.literal("rate_limit_event"),
  rate_limit_info: z.looseObject({ status: z.string(), resetsAt: z.number().optional() }),
});

const resultSchema = z.looseObject({
  type: z.literal("result"),
  subtype: z.string(),
  is_error: z.boolean(),
  /** Present on `success`; error subtypes carry `errors` instead. */
  result: z.string().optional(),
  errors: z.array(z.string()).optional(),
  num_turns: z.number().optional(),
  total_cost_usd: z.number().optional(),
  duration_ms: z.number().optional(),
  session_id: z.string().optional(),
  api_error_status: z.number().nullable().optional(),
  /** Token counts of the whole run; input is split into fresh, cache-write and cache-read. */
  usage: z
    .looseObject({
      input_tokens: z.number().optional(),
      cache_creation_input_tokens: z.number().optional(),
      cache_read_input_tokens: z.number().optional(),
      output_tokens: z.number().optional(),
    })
    .optional(),
});

/** Parses one stdout line of the CLI. Pure; never throws. */
export function parseStreamLine(line: string): StreamEvent {
  const raw = line.trim();
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { type: "unparsed", raw };
  }
  return toEvent(json) ?? { type: "unparsed", raw };
}

function toEvent(json: unknown): StreamEvent | undefined {
  const init = initSchema.safeParse(json);
  if (init.success) {
    const { session_id, model, tools } = init.data;
    return { type: "init", sessionId: session_id, model: model ?? "", tools: tools ?? [] };
  }
  const message = messageLineSchema.safeParse(json);
  if (message.success) return messageEvent(message.data);
  const retry = apiRetrySchema.safeParse(json);
  if (retry.success) {
    const { attempt, max_retries, retry_delay_ms, error_status, error } = retry.data;
    return {
      type: "api-retry",
      attempt,
      maxRetries: max_retries,
      delayMs: Math.round(retry_delay_ms),
      ...(error_status != null && { errorStatus: error_status }),
      ...(error != null && { error }),
    };
  }
  const rateLimit = rateLimitSchema.safeParse(json);
  if (rateLimit.success) {
    const { status, resetsAt } = rateLimit.data.rate_limit_info;
    return { type: "rate-limit", status, ...(resetsAt !== undefined && { resetsAt }) };
  }
  const result = resultSchema.safeParse(json);
  if (result.success) {
    const r = result.data;
    return {
      type: "result",
      subtype: r.subtype,
      isError: r.is_error,
      text: r.result ?? r.errors?.join("; ") ?? "",
      turns: r.num_turns ?? 0,
      costUsd: r.total_cost_usd ?? 0,
      durationMs: r.duration_ms ?? 0,
      ...(r.session_id !== undefined && { sessionId: r.session_id }),
      ...(r.api_error_status != null && { apiErrorStatus: r.api_error_status }),
      ...(r.usage && {
        inputTokens: (r.usage.input_tokens ?? 0) + (r.usage.cache_creation_input_tokens ?? 0) + (r.usage.cache_read_input_tokens ?? 0),
        outputTokens: r.usage.output_tokens ?? 0,
      }),
    };
  }
  return undefined;
}

function messageEvent(line: z.infer<typeof messageLineSchema>): StreamEvent | undefined {
  const content = line.message.content;
  const blocks = typeof content === "string" ? [{ type: "text", text: content }] : content;
  if (line.type === "user") {
    const results = blocks.filter((block) => block.type === "tool_result");
    // A user line without tool results is the prompt echoed back: nothing to act on.
    if (results.length === 0) return undefined;
    return { type: "tool-result", isError: results.some((block) => block.is_error === true) };
  }
  const text = blocks
    .filter((block) => block.type === "text")
    .map((block) => block.text ?? "")
    .join("\n");
  const toolUses = blocks
    .filter((block) => block.type === "tool_use")
    .map((block): ToolUseSummary => ({ name: block.name ?? "tool", summary: summarizeInput(block.input) }));
  return { type: "assistant", text, toolUses, ...(line.error !== undefined && { error: line.error }) };
}

/** Input keys that say the most about a call, best first (Edit's file, Bash's command, Grep's pattern). */
const SUMMARY_KEYS = ["file_path", "notebook_path", "path", "command", "pattern", "url", "query", "description", "prompt"];
const SUMMARY_MAX = 80;

function summarizeInput(input: Record<string, unknown> | undefined): string {
  if (!input) return "";
  const key = SUMMARY_KEYS.find((candidate) => typeof input[candidate] === "string");
  if (!key) return "";
  const value = String(input[key]).replace(/\s+/g, " ").trim();
  if (value.length <= SUMMARY_MAX) return value;
  // The end of a path names the file; the start of a command names the program.
  return key.endsWith("path") ? `…${value.slice(-(SUMMARY_MAX - 1))}` : `${value.slice(0, SUMMARY_MAX - 1)}…`;
}
