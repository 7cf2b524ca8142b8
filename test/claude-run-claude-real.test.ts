import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkClaudeBinary, runClaude, type RunClaudeOptions } from "../src/claude/run-claude.js";
import { describeToolUse, type StreamEvent } from "../src/claude/stream-event.js";
import { silentLogger } from "../src/shared/logger.js";
import { startMockAnthropicApi } from "./fake-claude/mock-anthropic-api.js";

// The installed @anthropic-ai/claude-code, not the fake: these tests catch format changes when it is upgraded.
const CLAUDE = fileURLToPath(new URL("../node_modules/.bin/claude", import.meta.url));

let dir: string;
let home: string;
let cwd: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ccc-real-claude-"));
  home = join(dir, "home");
  cwd = join(dir, "work");
  mkdirSync(home);
  mkdirSync(cwd);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh HOME and none of the developer's credentials or config. */
function options(overrides: Partial<RunClaudeOptions> = {}): RunClaudeOptions {
  return {
    bin: CLAUDE,
    prompt: "hi",
    cwd,
    maxTurns: 10,
    permissionMode: "acceptEdits",
    allowedTools: ["Read", "Edit", "Bash(git add:*)", "Bash(git commit:*)"],
    timeoutMs: 60_000,
    log: silentLogger,
    ...overrides,
    env: {
      HOME: home,
      ANTHROPIC_API_KEY: undefined,
      ANTHROPIC_AUTH_TOKEN: undefined,
      CLAUDE_CODE_OAUTH_TOKEN: undefined,
      ANTHROPIC_BASE_URL: undefined,
      CLAUDE_CONFIG_DIR: undefined,
      XDG_CONFIG_HOME: undefined,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      ...overrides.env,
    },
  };
}

describe("runClaude with the real claude binary", () => {
  it("reports its version", async () => {
    const check = await checkClaudeBinary(CLAUDE);
    expect(check).toMatchObject({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+ \(Claude Code\)$/) });
  });

  it("without a login: a session-expired failure, with the CLI's own words", async () => {
    const events: StreamEvent[] = [];
    const transcriptPath = join(dir, "transcript.jsonl");
    const outcome = await runClaude(options({ onEvent: (event) => events.push(event), transcriptPath }));
    expect(outcome).toMatchObject({
      ok: false,
      failure: { kind: "session-expired", message: "Claude session expired: Not logged in · Please run /login", retryable: true },
    });
    expect(events.map((event) => event.type)).toEqual(["init", "assistant", "result"]);
    expect(readFileSync(transcriptPath, "utf8").trimEnd().split("\n")).toHaveLength(3);
  });

  it("a whole session against a local Messages API: Read, Edit, a git commit, and the summary", async () => {
    execFileSync("git", ["init", "-q", "-b", "main", cwd]);
    writeFileSync(join(cwd, "README.md"), "# Helo world\n");
    execFileSync("git", ["-C", cwd, "add", "."]);
    execFileSync("git", ["-C", cwd, "-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-qm", "init"]);
    const api = await startMockAnthropicApi({ kind: "fix-readme", cwd });
    try {
      const events: StreamEvent[] = [];
      const outcome = await runClaude(
        options({
          prompt: "Fix the typo in README.md and commit it.",
          model: "claude-sonnet-4-5",
          onEvent: (event) => events.push(event),
          env: {
            ANTHROPIC_API_KEY: "sk-ant-api03-test-not-a-real-key-000000000000",
            ANTHROPIC_BASE_URL: api.url,
            GIT_AUTHOR_NAME: "Claude",
            GIT_AUTHOR_EMAIL: "claude@example.com",
            GIT_COMMITTER_NAME: "Claude",
            GIT_COMMITTER_EMAIL: "claude@example.com",
          },
        }),
      );
      expect(outcome).toMatchObject({ ok: true, result: { summary: expect.stringContaining("Fixed the typo"), turns: 4 } });
      expect(outcome.ok && outcome.result.costUsd).toBeGreaterThan(0);
      const tools = events.flatMap((event) => (event.type === "assistant" ? event.toolUses.map(describeToolUse) : []));
      expect(tools.map((tool) => tool.split(" ")[0])).toEqual(["Read", "Edit", "Bash"]);
      expect(events.filter((event) => event.type === "tool-result")).toEqual(Array(3).fill({ type: "tool-result", isError: false }));
      expect(readFileSync(join(cwd, "README.md"), "utf8")).toBe("# Hello world\n");
      expect(execFileSync("git", ["-C", cwd, "log", "-1", "--format=%s"], { encoding: "utf8" }).trim()).toBe("Fix typo in README heading");
    } finally {
      await api.close();
    }
  });

  it("an API 400 is an invalid-request failure that is not retried", async () => {
    const api = await startMockAnthropicApi({ kind: "error", status: 400, errorType: "invalid_request_error", message: "messages: bad request" });
    try {
      const outcome = await runClaude(options({ env: { ANTHROPIC_API_KEY: "sk-ant-api03-test-not-a-real-key-000000000000", ANTHROPIC_BASE_URL: api.url } }));
      expect(outcome).toMatchObject({ ok: false, failure: { kind: "invalid-request", retryable: false } });
      expect(api.requests()).toBe(1);
    } finally {
      await api.close();
    }
  });
});
