import { execa } from "execa";
import type { Logger } from "../shared/logger.js";
import { redactSecrets } from "../shared/redact.js";
import { GitError } from "./errors.js";
import { configEnv, FIXED_HARDENING, HARDENED_ENV, untrustedOverrides } from "./git-hardening.js";
import type { ConfigPair } from "./git-hardening.js";

export interface GitResult {
  exitCode: number;
  stdout: string;
  /** Redacted: safe to log and to put in an error. */
  stderr: string;
}

export interface GitOptions {
  cwd?: string;
  log: Logger;
  /** Kills git after this long; network commands pass one so a stalled remote cannot hold a mirror lock forever. */
  timeoutMs?: number;
  /** Written to git's stdin (e.g. `update-ref --stdin`); otherwise stdin is closed. */
  input?: string;
  /**
   * Config for this one command, after the hardening's (e.g. the Action's credential header):
   * passed through the environment of this git process only, never written to a file.
   */
  config?: readonly ConfigPair[];
}

/**
 * Runs git once; a non-zero exit is returned, not thrown, so callers decide what it means.
 * Every command runs hardened (git-hardening.ts): no hooks, no fsmonitor, and nothing the
 * repository's or worktree's config names as a program, since Claude can write those.
 */
export async function runGit(args: readonly string[], options: GitOptions): Promise<GitResult> {
  const started = performance.now();
  const overrides = configEnv([...(await untrustedOverrides(options.cwd)), ...(options.config ?? [])]);
  const result = await execa("git", [...FIXED_HARDENING, ...args], {
    cwd: options.cwd,
    // No shell, no prompt: a missing credential fails now instead of waiting on a terminal
    // nobody watches. stdin closed for the same reason.
    env: { ...HARDENED_ENV, ...overrides },
    ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }),
    reject: false,
    timeout: options.timeoutMs,
    stripFinalNewline: true,
  });
  if (result.exitCode === undefined) {
    // Killed (by the timeout or a signal), or never started because git is not installed.
    if (result.timedOut || result.signal) {
      const why = result.timedOut ? `timed out after ${options.timeoutMs} ms` : `was killed by ${result.signal}`;
      return { exitCode: -1, stdout: result.stdout, stderr: `fatal: git ${args[0]} ${why}` };
    }
    throw new GitError("git-missing", `could not run git (${result.shortMessage}): install git 2.39 or newer on this machine`);
  }
  const stderr = redactSecrets(result.stderr);
  options.log.debug({ args: args.map(redactSecrets), cwd: options.cwd, exitCode: result.exitCode, ms: Math.round(performance.now() - started) }, "git");
  return { exitCode: result.exitCode, stdout: result.stdout, stderr };
}

/** Runs git and returns its stdout; a non-zero exit becomes a GitError with `code`. */
export async function git(args: readonly string[], options: GitOptions & { code?: GitError["code"] }): Promise<string> {
  const result = await runGit(args, options);
  if (result.exitCode !== 0) {
    const what = `git ${args.map(redactSecrets).join(" ")}`;
    throw new GitError(options.code ?? "git-failed", `${what} failed: ${result.stderr || `exit ${result.exitCode}`}`, result.stderr);
  }
  return result.stdout;
}
