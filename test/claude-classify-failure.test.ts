import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { classifyFailure, type ClassifyFailureInput } from "../src/claude/classify-failure.js";
import { parseStreamLine } from "../src/claude/parse-stream-line.js";
import type { StreamEvent } from "../src/claude/stream-event.js";

const NOW = Date.parse("2026-01-01T10:00:00Z");

function fixture(name: string): StreamEvent[] {
  const text = readFileSync(new URL(`./fixtures/claude/${name}`, import.meta.url), "utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map(parseStreamLine);
}

function input(overrides: Partial<ClassifyFailureInput>): ClassifyFailureInput {
  return { exitCode: 1, events: [], stderr: "", timedOut: false, aborted: false, now: NOW, ...overrides };
}

const init: StreamEvent = { type: "init", sessionId: "s", model: "m", tools: [] };
/** The shape every CLI failure has: a synthetic assistant message, then an is_error result carrying the same text. */
function failedRun(text: string, extra: { error?: string; apiErrorStatus?: number; subtype?: string } = {}): StreamEvent[] {
  return [
    init,
    { type: "assistant", text, toolUses: [], ...(extra.error !== undefined && { error: extra.error }) },
    {
      type: "result",
      subtype: extra.subtype ?? "success",
      isError: true,
      text,
      turns: 1,
      costUsd: 0,
      durationMs: 5,
      ...(extra.apiErrorStatus !== undefined && { apiErrorStatus: extra.apiErrorStatus }),
    },
  ];
}

describe("classifyFailure on real CLI transcripts", () => {
  it.each<[string, string, boolean, RegExp]>([
    ["not-logged-in.jsonl", "session-expired", true, /^Claude session expired: Not logged in · Please run \/login$/],
    ["invalid-api-key-401.jsonl", "session-expired", true, /Invalid API key · Fix external API key/],
    ["oauth-expired-401.jsonl", "session-expired", true, /OAuth token has expired/],
    ["rate-limit-429.jsonl", "usage-limit", true, /^Claude usage limit reached: API Error: Request rejected \(429\)/],
    ["usage-limit-legacy.jsonl", "usage-limit", true, /resets at 2026-01-01T00:00:00.000Z/],
    ["usage-limit-session.jsonl", "usage-limit", true, /resets at 2026-01-01T12:20:00.000Z/],
    ["max-turns.jsonl", "max-turns", false, /max turns limit after 3 turns/],
    ["invalid-request-400.jsonl", "invalid-request", false, /400 messages.0.content: Input should be a valid list/],
    ["network-refused.jsonl", "network", true, /after 2 retries: API Error: Unable to connect to API \(ConnectionRefused\)/],
    ["overloaded-529.jsonl", "network", true, /529 Overloaded/],
  ])("%s → %s", (name, kind, retryable, message) => {
    const failure = classifyFailure(input({ events: fixture(name), exitCode: 1 }));
    expect(failure).toMatchObject({ kind, retryable });
    expect(failure?.message).toMatch(message);
  });

  it("a real success with exit code 0 is not a failure", () => {
    expect(classifyFailure(input({ events: fixture("success-tool-use.jsonl"), exitCode: 0 }))).toBeUndefined();
  });

  it("is_error: true is a failure even though subtype is success", () => {
    const events = fixture("not-logged-in.jsonl");
    expect(events.at(-1)).toMatchObject({ subtype: "success", isError: true });
    expect(classifyFailure(input({ events, exitCode: 0 }))).toBeDefined();
  });

  it("takes the reset time of the session limit from the CLI's text, computed in Asia/Singapore", () => {
    expect(classifyFailure(input({ events: fixture("usage-limit-session.jsonl") }))?.resetAt).toBe(Date.parse("2026-01-01T12:20:00Z"));
  });
});

describe("classifyFailure by form", () => {
  it.each<[string, StreamEvent[], string, number | undefined]>([
    ["legacy pipe form", failedRun("Claude AI usage limit reached|1767225600"), "usage-limit", Date.parse("2026-01-01T00:00:00Z")],
    [
      "'reset at 5pm (Europe/Warsaw)' before 5pm",
      failedRun("Claude usage limit reached. Your limit will reset at 5pm (Europe/Warsaw)."),
      "usage-limit",
      Date.parse("2026-01-01T16:00:00Z"),
    ],
    [
      "'resets 8:20pm (Asia/Singapore)'",
      failedRun("You've hit your session limit · resets 8:20pm (Asia/Singapore)", { error: "rate_limit" }),
      "usage-limit",
      Date.parse("2026-01-01T12:20:00Z"),
    ],
    [
      "rejected rate_limit_event alone",
      [init, { type: "rate-limit", status: "rejected", resetsAt: 1767268800 }, ...failedRun("API Error").slice(2)],
      "usage-limit",
      1767268800_000,
    ],
    ["429 rate_limit_error", failedRun('API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"rate limit"}}'), "usage-limit", undefined],
    [
      "API spend limit (a 400)",
      failedRun("API Error: 400 You have reached your specified API usage limits. You will regain access on 2026-04-01 at 00:00 UTC.", { apiErrorStatus: 400 }),
      "usage-limit",
      Date.parse("2026-04-01T00:00:00Z"),
    ],
    ["Not logged in", failedRun("Not logged in · Please run /login", { error: "authentication_failed" }), "session-expired", undefined],
    ["Invalid API key · Please run /login", failedRun("Invalid API key · Please run /login"), "session-expired", undefined],
    ["Invalid API key · Fix external API key", failedRun("Invalid API key · Fix external API key"), "session-expired", undefined],
    ["Missing API key · Run /login", failedRun("Missing API key · Run /login"), "session-expired", undefined],
    ["authentication_failed code alone", failedRun("Something odd", { error: "authentication_failed" }), "session-expired", undefined],
    [
      "OAuth token has expired",
      failedRun('API Error: 401 {"type":"error","error":{"type":"authentication_error","message":"OAuth token has expired."}}'),
      "session-expired",
      undefined,
    ],
    ["401 status alone", failedRun("API Error", { apiErrorStatus: 401 }), "session-expired", undefined],
    ["error_max_turns", failedRun("Reached maximum number of turns (5)", { subtype: "error_max_turns" }), "max-turns", undefined],
    [
      "400 invalid_request_error",
      failedRun('API Error: 400 {"type":"error","error":{"type":"invalid_request_error","message":"bad"}}'),
      "invalid-request",
      undefined,
    ],
    ["ECONNREFUSED", failedRun("API Error: connect ECONNREFUSED 127.0.0.1:443"), "network", undefined],
    ["ENOTFOUND", failedRun("getaddrinfo ENOTFOUND api.anthropic.com"), "network", undefined],
    ["ETIMEDOUT", failedRun("connect ETIMEDOUT 1.2.3.4:443"), "network", undefined],
    ["Connection error", failedRun("API Error: Connection error."), "network", undefined],
    ["fetch failed", failedRun("TypeError: fetch failed"), "network", undefined],
    ["a 500", failedRun("API Error: 500 Internal server error", { apiErrorStatus: 500 }), "network", undefined],
    ["529 overloaded", failedRun('API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'), "network", undefined],
    [
      "api_retry sequence ending in failure",
      [init, { type: "api-retry", attempt: 1, maxRetries: 1, delayMs: 10, error: "unknown" }, ...failedRun("API Error").slice(1)],
      "network",
      undefined,
    ],
    ["error_during_execution", failedRun("", { subtype: "error_during_execution" }), "unknown", undefined],
  ])("%s", (_, events, kind, resetAt) => {
    const failure = classifyFailure(input({ events }));
    expect(failure?.kind).toBe(kind);
    expect(failure?.resetAt).toBe(resetAt);
    expect(failure?.message.length).toBeLessThan(260);
  });

  it("retries network errors, usage limits and crashes; not invalid requests or max turns", () => {
    const retryable = (events: StreamEvent[]) => classifyFailure(input({ events }))?.retryable;
    expect(retryable(failedRun("fetch failed"))).toBe(true);
    expect(retryable(failedRun("Claude AI usage limit reached|1767225600"))).toBe(true);
    expect(retryable([init])).toBe(true);
    expect(retryable(failedRun("x", { apiErrorStatus: 400 }))).toBe(false);
    expect(retryable(failedRun("x", { subtype: "error_max_turns" }))).toBe(false);
  });

  it("a crash is a non-zero exit without a result line, quoting stderr's last line", () => {
    const failure = classifyFailure(input({ events: [init], exitCode: 2, stderr: "at x\nTypeError: boom\n" }));
    expect(failure).toEqual({ kind: "crash", message: "claude exited with code 2 before reporting a result: TypeError: boom", retryable: true });
  });

  it("reads stderr for auth errors when there is no result line", () => {
    expect(classifyFailure(input({ events: [], exitCode: 1, stderr: "Invalid API key · Please run /login\n" }))?.kind).toBe("session-expired");
  });

  it("a clean result with a non-zero exit code is still a failure", () => {
    const ok: StreamEvent = { type: "result", subtype: "success", isError: false, text: "done", turns: 1, costUsd: 0, durationMs: 1 };
    expect(classifyFailure(input({ events: [init, ok], exitCode: 1 }))?.kind).toBe("crash");
    expect(classifyFailure(input({ events: [init, ok], exitCode: 0 }))).toBeUndefined();
  });

  it("timeout and cancel win over whatever the transcript says", () => {
    const events = failedRun("Not logged in · Please run /login");
    expect(classifyFailure(input({ events, timedOut: true }))).toMatchObject({ kind: "timeout", retryable: false });
    expect(classifyFailure(input({ events, aborted: true }))).toMatchObject({ kind: "cancelled", retryable: false });
  });

  it("does not read Claude's own prose: a successful run talking about usage limits is a success", () => {
    const events: StreamEvent[] = [
      init,
      { type: "assistant", text: "I added handling for 'Claude AI usage limit reached|123' and 'Not logged in'.", toolUses: [] },
      { type: "result", subtype: "success", isError: false, text: "Handled usage limit reached messages.", turns: 2, costUsd: 0.1, durationMs: 9 },
    ];
    expect(classifyFailure(input({ events, exitCode: 0 }))).toBeUndefined();
    // …and a crash after such prose is a crash, not a usage limit.
    expect(classifyFailure(input({ events: events.slice(0, 2), exitCode: 1 }))?.kind).toBe("crash");
  });
});
