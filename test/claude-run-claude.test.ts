import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkClaudeBinary, claudeArgs, runClaude, type RunClaudeOptions } from "../src/claude/run-claude.js";
import type { StreamEvent } from "../src/claude/stream-event.js";
import { silentLogger } from "../src/shared/logger.js";

const FAKE = fileURLToPath(new URL("./fake-claude/fake-claude.mjs", import.meta.url));

/** Running and not a zombie: where PID 1 never reaps orphans (this sandbox, init-less containers) a killed orphan stays `Z`. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false; // ESRCH
  }
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

let dir: string;
let repo: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ccc-claude-"));
  repo = join(dir, "repo");
  execFileSync("git", ["init", "-q", "-b", "main", repo]);
  execFileSync("git", ["-C", repo, "config", "user.email", "test@example.com"]);
  execFileSync("git", ["-C", repo, "config", "user.name", "Test"]);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function options(scenario: string, overrides: Partial<RunClaudeOptions> = {}): RunClaudeOptions {
  return {
    bin: FAKE,
    prompt: "Fix issue #7",
    cwd: repo,
    maxTurns: 12,
    permissionMode: "acceptEdits",
    allowedTools: ["Edit", "Write", "Bash(git commit:*)"],
    timeoutMs: 20_000,
    log: silentLogger,
    ...overrides,
    env: { FAKE_CLAUDE_SCENARIO: scenario, ...overrides.env },
  };
}

const commits = () => Number(execFileSync("git", ["-C", repo, "rev-list", "--count", "--all"], { encoding: "utf8" }).trim());

describe("claudeArgs", () => {
  it.each<[string, Parameters<typeof claudeArgs>[0], string[]]>([
    [
      "print mode with no prompt argument: the prompt goes on stdin",
      { maxTurns: 5, permissionMode: "acceptEdits", allowedTools: ["Edit", "Read"] },
      ["-p", "--output-format", "stream-json", "--verbose", "--max-turns", "5", "--permission-mode", "acceptEdits", "--allowedTools", "Edit,Read"],
    ],
    [
      "a model when one is set",
      { maxTurns: 1, permissionMode: "default", allowedTools: [], model: "claude-opus-4-1" },
      [
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--max-turns",
        "1",
        "--permission-mode",
        "default",
        "--allowedTools",
        "",
        "--model",
        "claude-opus-4-1",
      ],
    ],
  ])("%s", (_name, options, expected) => {
    expect(claudeArgs(options)).toEqual(expected);
  });
});

describe("runClaude against the scripted fake", () => {
  it("edit: succeeds with the result's summary, cost and turns, and Claude's commit is in the worktree", async () => {
    const events: StreamEvent[] = [];
    const transcriptPath = join(dir, "logs", "nested", "transcript.jsonl");
    const argsFile = join(dir, "args.json");
    const outcome = await runClaude(options("edit", { onEvent: (event) => events.push(event), transcriptPath, env: { FAKE_CLAUDE_ARGS_FILE: argsFile } }));

    expect(outcome).toMatchObject({ ok: true, result: { costUsd: 0.0234, turns: 3, summary: expect.stringContaining("CLAUDE_CHANGE.md") } });
    expect(outcome.ok && outcome.result.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(commits()).toBe(1);
    expect(events.map((event) => event.type)).toEqual(["init", "assistant", "assistant", "tool-result", "assistant", "tool-result", "assistant", "result"]);
    const transcript = readFileSync(transcriptPath, "utf8").trimEnd().split("\n");
    expect(transcript).toHaveLength(events.length);
    expect(JSON.parse(transcript[0]!)).toMatchObject({ type: "system", subtype: "init" });

    const { argv, cwd, prompt } = JSON.parse(readFileSync(argsFile, "utf8")) as { argv: string[]; cwd: string; prompt: string };
    expect(cwd).toBe(repo);
    expect(prompt).toBe("Fix issue #7");
    expect(argv).toEqual([
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--max-turns",
      "12",
      "--permission-mode",
      "acceptEdits",
      "--allowedTools",
      "Edit,Write,Bash(git commit:*)",
    ]);
  });

  it("passes --model when one is set, and the prompt on stdin, byte for byte, even with quotes and newlines", async () => {
    const argsFile = join(dir, "args.json");
    const prompt = 'line 1\n"quoted" $HOME `ticks`; rm -rf /';
    await runClaude(options("no-changes", { model: "claude-opus-4-1", prompt, env: { FAKE_CLAUDE_ARGS_FILE: argsFile } }));
    const recorded = JSON.parse(readFileSync(argsFile, "utf8")) as { argv: string[]; prompt: string };
    expect(recorded.argv.slice(-2)).toEqual(["--model", "claude-opus-4-1"]);
    expect(recorded.argv).not.toContain(prompt);
    expect(recorded.prompt).toBe(prompt);
  });

  it("a 300 KiB multibyte prompt, far over the argument limit, reaches the CLI whole", async () => {
    const argsFile = join(dir, "args.json");
    const body = "ż🙂".repeat(Math.ceil((300 * 1024) / Buffer.byteLength("ż🙂")));
    const prompt = `<issue>\n${body}\n</issue>\n`;
    const outcome = await runClaude(options("no-changes", { prompt, env: { FAKE_CLAUDE_ARGS_FILE: argsFile } }));
    expect(outcome.ok).toBe(true);
    const recorded = JSON.parse(readFileSync(argsFile, "utf8")) as { prompt: string; promptBytes: number };
    expect(Buffer.byteLength(prompt)).toBeGreaterThan(300 * 1024);
    expect(recorded.promptBytes).toBe(Buffer.byteLength(prompt));
    expect(recorded.prompt).toBe(prompt);
  });

  it("the login probe's prompt, on stdin, is still recognised as a probe", async () => {
    const outcome = await runClaude(options("edit", { prompt: "Reply with the single word OK." }));
    expect(outcome).toMatchObject({ ok: true, result: { summary: "OK" } });
    expect(commits()).toBe(0);
  });

  it("no-changes: succeeds without a commit", async () => {
    const outcome = await runClaude(options("no-changes"));
    expect(outcome).toMatchObject({ ok: true, result: { summary: expect.stringContaining("no change is needed") } });
    expect(existsSync(join(repo, ".git", "refs", "heads", "main"))).toBe(false);
  });

  it.each<[string, Record<string, string>, object]>([
    ["not-logged-in", {}, { kind: "session-expired", message: "Claude session expired: Not logged in · Please run /login", retryable: true }],
    ["usage-limit", { FAKE_CLAUDE_RESET: "1767225600" }, { kind: "usage-limit", resetAt: 1767225600_000, retryable: true }],
    ["max-turns", {}, { kind: "max-turns", retryable: false }],
    ["network", {}, { kind: "network", retryable: true }],
    ["crash", {}, { kind: "crash", message: expect.stringContaining("exited with code 2 before reporting a result"), retryable: true }],
  ])("%s: fails with the right kind", async (scenario, env, failure) => {
    const outcome = await runClaude(options(scenario, { env }));
    expect(outcome).toMatchObject({ ok: false, failure });
  });

  it("keeps the result of a failed run that reported one", async () => {
    const outcome = await runClaude(options("max-turns"));
    expect(outcome).toMatchObject({ ok: false, result: { turns: 3, costUsd: 0.0102 } });
  });

  it("survives an onEvent handler that throws", async () => {
    const outcome = await runClaude(
      options("no-changes", {
        onEvent: () => {
          throw new Error("reporter down");
        },
      }),
    );
    expect(outcome.ok).toBe(true);
  });
});

describe("runClaude stopping a run", () => {
  async function pidsOf(file: string): Promise<{ pid: number; childPid: number }> {
    await waitUntil(() => existsSync(file), 5_000);
    return JSON.parse(readFileSync(file, "utf8")) as { pid: number; childPid: number };
  }

  it("timeout kills the CLI and the child it started", async () => {
    const pidsFile = join(dir, "pids.json");
    const started = Date.now();
    const outcome = await runClaude(options("hang", { timeoutMs: 1_000, env: { FAKE_CLAUDE_PIDS_FILE: pidsFile } }));
    expect(outcome).toMatchObject({ ok: false, failure: { kind: "timeout", retryable: false } });
    expect(Date.now() - started).toBeLessThan(3_000); // SIGTERM was enough
    const { pid, childPid } = await pidsOf(pidsFile);
    expect(await waitUntil(() => !isRunning(pid) && !isRunning(childPid), 3_000)).toBe(true);
  });

  it("escalates to SIGKILL when the process group ignores SIGTERM", async () => {
    const pidsFile = join(dir, "pids.json");
    const started = Date.now();
    const outcome = await runClaude(options("hang", { timeoutMs: 500, env: { FAKE_CLAUDE_PIDS_FILE: pidsFile, FAKE_CLAUDE_IGNORE_SIGTERM: "1" } }));
    expect(outcome).toMatchObject({ ok: false, failure: { kind: "timeout" } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_400); // 500 ms timeout + 3 s grace
    const { pid, childPid } = await pidsOf(pidsFile);
    expect(isRunning(pid) || isRunning(childPid)).toBe(false);
  });

  it("an AbortSignal cancels the run and kills the process tree", async () => {
    const pidsFile = join(dir, "pids.json");
    const controller = new AbortController();
    const outcome = await runClaude(
      options("hang", {
        signal: controller.signal,
        onEvent: (event) => event.type === "init" && setTimeout(() => controller.abort(), 200),
        env: { FAKE_CLAUDE_PIDS_FILE: pidsFile },
      }),
    );
    expect(outcome).toMatchObject({ ok: false, failure: { kind: "cancelled", retryable: false } });
    const { pid, childPid } = await pidsOf(pidsFile);
    expect(await waitUntil(() => !isRunning(pid) && !isRunning(childPid), 3_000)).toBe(true);
  });

  it("an already-aborted signal does not start the CLI", async () => {
    const argsFile = join(dir, "args.json");
    const outcome = await runClaude(options("edit", { signal: AbortSignal.abort(), env: { FAKE_CLAUDE_ARGS_FILE: argsFile } }));
    expect(outcome).toMatchObject({ ok: false, failure: { kind: "cancelled" } });
    expect(existsSync(argsFile)).toBe(false);
  });
});

describe("a missing or broken binary", () => {
  it("runClaude says where it looked and what to do", async () => {
    const bin = join(dir, "no-such-claude");
    const outcome = await runClaude(options("edit", { bin }));
    expect(outcome).toEqual({
      ok: false,
      failure: { kind: "crash", message: `claude binary not found at ${bin}: install @anthropic-ai/claude-code or set CLAUDE_BIN`, retryable: false },
    });
  });

  it("checkClaudeBinary reports the version, or the same clear message", async () => {
    expect(await checkClaudeBinary(FAKE)).toEqual({ ok: true, version: "2.1.0 (Claude Code, fake)" });
    const bin = join(dir, "no-such-claude");
    expect(await checkClaudeBinary(bin)).toEqual({
      ok: false,
      message: `claude binary not found at ${bin}: install @anthropic-ai/claude-code or set CLAUDE_BIN`,
    });
  });
});
