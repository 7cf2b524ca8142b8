import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as delay } from "node:timers/promises";
import { execa } from "execa";
import type { Logger } from "../shared/logger.js";
import { classifyFailure, type ClaudeFailure } from "./classify-failure.js";
import { claudeEnv } from "./claude-env.js";
import { LineSplitter } from "./line-splitter.js";
import { parseStreamLine } from "./parse-stream-line.js";
import { signalProcessGroup, terminateProcessGroup } from "./process-group.js";
import type { StreamEvent } from "./stream-event.js";

export interface RunClaudeOptions {
  /** Path or name of the `claude` executable (`CLAUDE_BIN`). */
  bin: string;
  /** Written to the CLI's stdin (`-p` with no argument), so its size is not bounded by the argument limit. */
  prompt: string;
  /** The task's git worktree. */
  cwd: string;
  /**
   * `--resume <id>`: continue this earlier session (its conversation is on this machine);
   * `prompt` is then the continuation. An unknown id fails with `failure.sessionNotFound`.
   */
  resume?: string | undefined;
  model?: string | undefined;
  maxTurns: number;
  /** `--permission-mode`, e.g. `acceptEdits`. */
  permissionMode: string;
  /** `--allowedTools`, e.g. `["Edit", "Bash(git commit:*)"]`. */
  allowedTools: string[];
  /** Wall-clock limit for the whole run; on expiry the process group is killed. */
  timeoutMs: number;
  /** Aborting kills the process group and the outcome is `cancelled`. */
  signal?: AbortSignal | undefined;
  /** Called for every stdout line, in order. A throwing handler is logged, not fatal. */
  onEvent?: ((event: StreamEvent) => void) | undefined;
  /** Every raw stdout line is appended here; parent directories are created. */
  transcriptPath?: string | undefined;
  /**
   * Merged over Claude's allowlisted environment (`claudeEnv(process.env)`); `undefined`
   * removes a variable. Explicit extras reach Claude whatever their name.
   */
  env?: Record<string, string | undefined> | undefined;
  log: Logger;
}

/** What the final `result` line said. */
export interface ClaudeRunResult {
  summary: string;
  costUsd: number;
  turns: number;
  durationMs: number;
  sessionId?: string;
  inputTokens?: number;
  outputTokens?: number;
}

export type ClaudeRunOutcome = { ok: true; result: ClaudeRunResult } | { ok: false; failure: ClaudeFailure; result?: ClaudeRunResult };

/**
 * Starts the CLI and ends its process group if the agent dies without cleaning up. The agent
 * starts the repository's test command through it too (`node <guard> sh -c <command>`).
 */
export const CLAUDE_GUARD = fileURLToPath(new URL("./claude-guard.mjs", import.meta.url));
/** The guard's exit status when the CLI could not be started; stderr names the errno. */
const GUARD_SPAWN_FAILED = 127;

/** Between SIGTERM and SIGKILL: time for the CLI to stop its tools and flush. */
export const KILL_GRACE_MS = 3_000;
const STDERR_LIMIT = 64 * 1024;

/** Claude's session ids are UUIDs. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether `id` can go after `--resume`. It is read back from the task record, which the task
 * signature does not cover: anything else (`--dangerously-skip-permissions`, say) must never
 * reach the CLI's arguments.
 */
export function isSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

/** The CLI's arguments; the prompt is not among them: it goes on stdin. */
export function claudeArgs(options: Pick<RunClaudeOptions, "maxTurns" | "permissionMode" | "allowedTools" | "model" | "resume">): string[] {
  if (options.resume !== undefined && !isSessionId(options.resume))
    throw new Error(`refusing to resume ${JSON.stringify(options.resume.slice(0, 60))}: not a Claude session id`);
  return [
    ...(options.resume !== undefined ? ["--resume", options.resume] : []),
    ...["-p", "--output-format", "stream-json", "--verbose"],
    ...["--max-turns", String(options.maxTurns), "--permission-mode", options.permissionMode],
    ...["--allowedTools", options.allowedTools.join(",")],
    ...(options.model ? ["--model", options.model] : []),
  ];
}

/** Runs the Claude CLI headless once and reports how it ended. Never throws for a failed run. */
export async function runClaude(options: RunClaudeOptions): Promise<ClaudeRunOutcome> {
  const { log, signal } = options;
  if (signal?.aborted) return { ok: false, failure: { kind: "cancelled", message: "the run was cancelled before it started", retryable: false } };

  const transcript = options.transcriptPath ? await openTranscript(options.transcriptPath) : undefined;
  const events: StreamEvent[] = [];
  const splitter = new LineSplitter();
  let stderr = "";
  let timedOut = false;
  let aborted = false;

  const onLine = (line: string): void => {
    transcript?.write(`${line}\n`);
    const event = parseStreamLine(line);
    events.push(event);
    try {
      options.onEvent?.(event);
    } catch (error) {
      log.warn({ err: error }, "claude onEvent handler threw");
    }
  };

  // Through the guard, so that Claude and its tools die with a killed agent (claude-guard.mjs).
  const child = execa(process.execPath, [CLAUDE_GUARD, options.bin, ...claudeArgs(options)], {
    cwd: options.cwd,
    env: guardedEnv(options.env),
    extendEnv: false,
    // The prompt on stdin: an argument over ~128 KiB fails with E2BIG. The guard passes its stdin on.
    input: options.prompt,
    // Own process group, so that a timeout or cancel can kill everything Claude started.
    detached: true,
    buffer: false,
    reject: false,
  });
  child.stdout?.on("data", (chunk: Buffer) => splitter.push(chunk).forEach(onLine));
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_LIMIT);
  });

  const pid = child.pid;
  let stopping: Promise<void> | undefined;
  const stop = (reason: "timeout" | "abort"): void => {
    if (stopping || pid === undefined) return;
    if (reason === "timeout") timedOut = true;
    else aborted = true;
    log.warn({ claudePid: pid, reason }, "stopping claude and its process group");
    stopping = terminateProcessGroup(pid, KILL_GRACE_MS);
  };
  const timer = setTimeout(() => stop("timeout"), options.timeoutMs);
  const onAbort = (): void => stop("abort");
  signal?.addEventListener("abort", onAbort, { once: true });
  // If the agent itself exits mid-run, a detached Claude would otherwise keep working unseen.
  const onProcessExit = (): void => void (pid !== undefined && signalProcessGroup(pid, "SIGKILL"));
  process.once("exit", onProcessExit);
  log.info(
    {
      claudePid: pid,
      cwd: options.cwd,
      resume: options.resume,
      model: options.model,
      maxTurns: options.maxTurns,
      promptBytes: Buffer.byteLength(options.prompt),
    },
    "claude started",
  );

  try {
    // 'exit' rather than the execa promise: a grandchild holding stdout open would delay the promise indefinitely.
    // (Not events.once: it rejects on the 'error' a missing binary emits, which execa reports itself.)
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const first = await Promise.race([exited, child]);
    clearTimeout(timer);
    if (typeof first === "object" && first !== null && first.failed && first.code !== undefined) {
      return { ok: false, failure: spawnFailure(options.bin, first.code) };
    }
    const exitCode = typeof first === "number" || first === null ? first : (first.exitCode ?? null);
    // Leftovers (background commands, servers) of a finished run go too; waits for a kill in progress.
    await (stopping ?? (pid !== undefined ? terminateProcessGroup(pid, KILL_GRACE_MS) : undefined));
    await Promise.race([child, delay(KILL_GRACE_MS)]);
    child.stdout?.destroy();
    child.stderr?.destroy();
    splitter.flush().forEach(onLine);
    const spawnError = exitCode === GUARD_SPAWN_FAILED ? /^ccc-guard: spawn (\S+)/m.exec(stderr) : null;
    if (spawnError) return { ok: false, failure: spawnFailure(options.bin, spawnError[1]!) };

    const failure = classifyFailure({ exitCode, events, stderr, timedOut, aborted, now: Date.now() });
    const result = resultOf(events);
    log.info({ claudePid: pid, exitCode, kind: failure?.kind ?? "success", turns: result?.turns, costUsd: result?.costUsd }, "claude finished");
    if (!failure && result) return { ok: true, result };
    const definite = failure ?? { kind: "unknown", message: "claude finished without a result", retryable: false };
    return { ok: false, failure: definite, ...(result && { result }) };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    process.removeListener("exit", onProcessExit);
    if (transcript) await closeTranscript(transcript);
  }
}

/**
 * Git settings of the highest precedence (command scope, over any config file) for the git
 * Claude runs itself: a worktree config or `.git` file Claude rewrote cannot make `git status`
 * run a program through fsmonitor or hooks.
 */
const CLAUDE_GIT_GUARD: Record<string, string> = {
  GIT_CONFIG_COUNT: "2",
  GIT_CONFIG_KEY_0: "core.fsmonitor",
  GIT_CONFIG_VALUE_0: "false",
  GIT_CONFIG_KEY_1: "core.hooksPath",
  GIT_CONFIG_VALUE_1: "/dev/null",
};

/**
 * Allowlisted agent environment, git's guard, the guard's grace period if set, then the caller's
 * extras: what Claude, and the repository's test command, run with.
 */
export function guardedEnv(extra: RunClaudeOptions["env"]): Record<string, string> {
  const grace = process.env.CCC_GUARD_GRACE_MS;
  const merged: Record<string, string | undefined> = {
    ...claudeEnv(process.env),
    ...CLAUDE_GIT_GUARD,
    ...(grace !== undefined && { CCC_GUARD_GRACE_MS: grace }),
    ...extra,
  };
  return Object.fromEntries(Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function spawnFailure(bin: string, code: string): ClaudeFailure {
  if (code === "ENOENT") {
    return { kind: "crash", message: `claude binary not found at ${bin}: install @anthropic-ai/claude-code or set CLAUDE_BIN`, retryable: false };
  }
  return { kind: "crash", message: `could not start claude at ${bin} (${code}): check that it is an executable file`, retryable: false };
}

function resultOf(events: StreamEvent[]): ClaudeRunResult | undefined {
  const result = events.findLast((event) => event.type === "result");
  if (result?.type !== "result") return undefined;
  return {
    summary: result.text,
    costUsd: result.costUsd,
    turns: result.turns,
    durationMs: result.durationMs,
    ...(result.sessionId !== undefined && { sessionId: result.sessionId }),
    ...(result.inputTokens !== undefined && { inputTokens: result.inputTokens }),
    ...(result.outputTokens !== undefined && { outputTokens: result.outputTokens }),
  };
}

async function openTranscript(path: string): Promise<WriteStream> {
  await mkdir(dirname(path), { recursive: true });
  return createWriteStream(path, { flags: "a" });
}

async function closeTranscript(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve) => stream.end(resolve));
}

/** `<bin> --version`, for the agent's start-up check and `ccc status`. */
export async function checkClaudeBinary(bin: string): Promise<{ ok: true; version: string } | { ok: false; message: string }> {
  const result = await execa(bin, ["--version"], { timeout: 10_000, reject: false, stdin: "ignore", env: claudeEnv(process.env), extendEnv: false });
  if (result.code === "ENOENT") return { ok: false, message: `claude binary not found at ${bin}: install @anthropic-ai/claude-code or set CLAUDE_BIN` };
  if (result.timedOut) return { ok: false, message: `\`${bin} --version\` did not answer within 10 s` };
  if (result.failed) {
    const detail =
      String(result.stderr ?? "")
        .trim()
        .split("\n")[0] || result.shortMessage;
    return { ok: false, message: `\`${bin} --version\` failed: ${detail}` };
  }
  return {
    ok: true,
    version:
      String(result.stdout ?? "")
        .trim()
        .split("\n")[0] ?? "",
  };
}
