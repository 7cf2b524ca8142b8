import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseStreamLine } from "../src/claude/parse-stream-line.js";
import { describeToolUse, type StreamEvent } from "../src/claude/stream-event.js";

function fixture(name: string): StreamEvent[] {
  const text = readFileSync(new URL(`./fixtures/claude/${name}`, import.meta.url), "utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map(parseStreamLine);
}

const types = (events: StreamEvent[]) => events.map((event) => event.type);

describe("parseStreamLine on golden transcripts", () => {
  it("reads a real successful session with Read, Edit and a Bash git commit", () => {
    const events = fixture("success-tool-use.jsonl");
    expect(types(events)).toEqual([
      "init",
      "assistant",
      "assistant",
      "tool-result",
      "assistant",
      "tool-result",
      "assistant",
      "tool-result",
      "assistant",
      "result",
    ]);
    expect(events[0]).toMatchObject({ type: "init", sessionId: "152abff8-47c9-4986-826d-f8e7d6f78c4e", model: "claude-sonnet-4-5" });
    expect(events[0]).toHaveProperty("tools", expect.arrayContaining(["Bash", "Edit", "Read", "Write"]));
    expect(events[1]).toEqual({ type: "assistant", text: "I'll look at the README first.", toolUses: [] });
    const tools = events.flatMap((event) => (event.type === "assistant" ? event.toolUses.map(describeToolUse) : []));
    expect(tools).toEqual([
      "Read /home/dev/project/README.md",
      "Edit /home/dev/project/README.md",
      "Bash git add README.md && git commit -m 'Fix typo in README heading'",
    ]);
    expect(events.filter((event) => event.type === "tool-result")).toEqual(Array(3).fill({ type: "tool-result", isError: false }));
    expect(events.at(-1)).toEqual({
      type: "result",
      subtype: "success",
      isError: false,
      text: 'Fixed the typo in the README heading ("Helo" → "Hello") and committed it.',
      turns: 4,
      costUsd: 0.0234,
      durationMs: 525,
      sessionId: "152abff8-47c9-4986-826d-f8e7d6f78c4e",
      inputTokens: 6700,
      outputTokens: 220,
    });
  });

  it("reads the real not-logged-in output: an authentication_failed assistant line and an is_error result", () => {
    const events = fixture("not-logged-in.jsonl");
    expect(types(events)).toEqual(["init", "assistant", "result"]);
    expect(events[1]).toEqual({ type: "assistant", text: "Not logged in · Please run /login", toolUses: [], error: "authentication_failed" });
    expect(events[2]).toMatchObject({ type: "result", subtype: "success", isError: true, text: "Not logged in · Please run /login", turns: 1, costUsd: 0 });
    expect(events[2]).not.toHaveProperty("apiErrorStatus"); // null on the wire
  });

  it("reads a max-turns result, which has an errors array instead of a result text", () => {
    const events = fixture("max-turns.jsonl");
    expect(events.at(-1)).toMatchObject({ type: "result", subtype: "error_max_turns", isError: true, text: "Reached maximum number of turns (2)", turns: 3 });
  });

  it("reads api_retry lines, with a null error_status for connection errors", () => {
    const events = fixture("network-refused.jsonl");
    expect(types(events)).toEqual(["init", "api-retry", "api-retry", "assistant", "result"]);
    expect(events[1]).toEqual({ type: "api-retry", attempt: 1, maxRetries: 2, delayMs: 538, error: "unknown" });
    expect(events[3]).toMatchObject({ error: "server_error", text: "API Error: Unable to connect to API (ConnectionRefused)" });
  });

  it.each([
    ["invalid-request-400.jsonl", 400],
    ["rate-limit-429.jsonl", 429],
    ["overloaded-529.jsonl", 529],
    ["invalid-api-key-401.jsonl", 401],
    ["oauth-expired-401.jsonl", 401],
  ])("keeps api_error_status from %s", (name, status) => {
    const events = fixture(name);
    expect(events.at(-1)).toMatchObject({ type: "result", isError: true, apiErrorStatus: status });
    for (const retry of events.filter((event) => event.type === "api-retry")) expect(retry.errorStatus).toBe(status);
  });

  it("reads a rate_limit_event; resetsAt stays in epoch seconds", () => {
    const events = fixture("usage-limit-session.jsonl");
    expect(events[1]).toEqual({ type: "rate-limit", status: "rejected", resetsAt: 1767270000 });
    expect(events[2]).toMatchObject({ type: "assistant", error: "rate_limit" });
  });

  it("reads the legacy usage-limit result", () => {
    expect(fixture("usage-limit-legacy.jsonl").at(-1)).toMatchObject({ type: "result", isError: true, text: "Claude AI usage limit reached|1767225600" });
  });
});

describe("parseStreamLine on odd lines", () => {
  it.each([
    ["not JSON", "Warning: something on stdout"],
    ["a JSON array", "[1,2]"],
    ["an unknown type", '{"type":"stream_event","event":{}}'],
    ["an unknown system subtype", '{"type":"system","subtype":"compact_boundary","session_id":"s"}'],
    ["a user line without tool results", '{"type":"user","message":{"role":"user","content":"hi"}}'],
    ["a result without is_error", '{"type":"result","subtype":"success"}'],
  ])("returns unparsed for %s, never throws", (_, line) => {
    expect(parseStreamLine(line)).toEqual({ type: "unparsed", raw: line });
  });

  it("ignores fields it does not know, so a newer CLI still parses", () => {
    const line = JSON.stringify({ type: "system", subtype: "init", session_id: "s1", model: "m", tools: [], brand_new_field: { x: 1 } });
    expect(parseStreamLine(line)).toEqual({ type: "init", sessionId: "s1", model: "m", tools: [] });
  });

  it("marks a tool result line as an error when any result in it failed", () => {
    const line = JSON.stringify({
      type: "user",
      message: {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "a" },
          { type: "tool_result", tool_use_id: "b", is_error: true },
        ],
      },
    });
    expect(parseStreamLine(line)).toEqual({ type: "tool-result", isError: true });
  });

  it("shortens long tool inputs: the end of a path, the start of a command", () => {
    const path = `/very/${"deep/".repeat(30)}file.ts`;
    const command = `npm test -- ${"x".repeat(200)}`;
    const line = JSON.stringify({
      type: "assistant",
      message: {
        content: [
          { type: "tool_use", id: "1", name: "Edit", input: { file_path: path } },
          { type: "tool_use", id: "2", name: "Bash", input: { command } },
        ],
      },
    });
    const event = parseStreamLine(line);
    if (event.type !== "assistant") throw new Error("expected an assistant event");
    expect(event.toolUses[0]!.summary).toMatch(/^….*deep\/file\.ts$/);
    expect(event.toolUses[1]!.summary).toMatch(/^npm test -- x+…$/);
    expect(event.toolUses.every((tool) => tool.summary.length <= 80)).toBe(true);
  });
});
