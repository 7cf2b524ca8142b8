import { setTimeout as delay } from "node:timers/promises";
import { execa } from "execa";
import { signalProcessGroup, terminateProcessGroup } from "../claude/process-group.js";
import { CLAUDE_GUARD, guardedEnv, KILL_GRACE_MS } from "../claude/run-claude.js";
import type { Logger } from "../shared/logger.js";

export interface RunTestCommandOptions {
  /** The repository's command line (`test:` in its config), run with `sh -c`. */
  command: string;
  /** The task's worktree. */
  cwd: string;
  /** On expiry the command's process group is killed and the run counts as failing. */
  timeoutMs: number;
  /** Aborting (cancel, shutdown) kills the process group. */
  signal?: AbortSignal | undefined;
  log: Logger;
}

export interface TestCommandRun {
  /** Null when it was killed (timeout, abort) or ended by a signal. */
  exitCode: number | null;
  timedOut: boolean;
  /** The end of stdout and stderr, interleaved as they came (OUTPUT_LIMIT characters at most). */
  output: string;
  durationMs: number;
}

/** The output kept while the command runs; its tail is cut much shorter before it goes anywhere. */
const OUTPUT_LIMIT = 256 * 1024;

/**
 * Runs the repository's test command in the worktree as a CI runner runs a `run:` line: `sh -c`,
 * so pipes and `&&` work. It gets what Claude gets and nothing more (the allowlisted environment,
 * git with hooks and fsmonitor off) plus `CI=true`, so test runners do not wait for a terminal.
 * Through the Claude guard, in its own process group: a timeout, a cancel or the agent's death
 * ends the command and everything it started (servers, watchers, browsers). Never throws.
 */
export async function runTestCommand(options: RunTestCommandOptions): Promise<TestCommandRun> {
  const { log, signal } = options;
  const started = Date.now();
  let output = "";
  let timedOut = false;
  const child = execa(process.execPath, [CLAUDE_GUARD, "sh", "-c", options.command], {
    cwd: options.cwd,
    env: guardedEnv({ CI: "true" }),
    extendEnv: false,
    stdin: "ignore",
    detached: true,
    buffer: false,
    reject: false,
  });
  const append = (chunk: string): void => {
    output = (output + chunk).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.setEncoding("utf8").on("data", append);
  child.stderr?.setEncoding("utf8").on("data", append);

  const pid = child.pid;
  let stopping: Promise<void> | undefined;
  const stop = (reason: "timeout" | "abort"): void => {
    if (stopping || pid === undefined) return;
    timedOut ||= reason === "timeout";
    log.warn({ testPid: pid, reason }, "stopping the test command and its process group");
    stopping = terminateProcessGroup(pid, KILL_GRACE_MS);
  };
  const timer = setTimeout(() => stop("timeout"), options.timeoutMs);
  const onAbort = (): void => stop("abort");
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) stop("abort");
  const onProcessExit = (): void => void (pid !== undefined && signalProcessGroup(pid, "SIGKILL"));
  process.once("exit", onProcessExit);
  log.info({ testPid: pid, command: options.command, timeoutMs: options.timeoutMs }, "test command started");
  try {
    // 'exit', not the execa promise: a server the tests left running holds stdout open.
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const first = await Promise.race([exited, child]);
    clearTimeout(timer);
    const code = typeof first === "number" || first === null ? first : (first.exitCode ?? null);
    // What the tests left behind goes too; waits for a kill in progress.
    await (stopping ?? (pid !== undefined ? terminateProcessGroup(pid, KILL_GRACE_MS) : undefined));
    await Promise.race([child, delay(KILL_GRACE_MS)]);
    child.stdout?.destroy();
    child.stderr?.destroy();
    // Killed by us (timeout, abort): whatever the guard exited with is no exit code of the tests.
    const exitCode = stopping !== undefined ? null : code;
    const durationMs = Date.now() - started;
    log.info({ testPid: pid, exitCode, timedOut, durationMs }, "test command finished");
    return { exitCode, timedOut, output, durationMs };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    process.removeListener("exit", onProcessExit);
  }
}
