import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { RedisClient } from "../../src/shared/redis-client.js";
import { AgentRegistry } from "../../src/store/agent-registry.js";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const CCC_BIN = join(REPO_ROOT, "bin/ccc.js");
export const FAKE_CLAUDE = join(REPO_ROOT, "test/fake-claude/fake-claude.mjs");

export interface AgentProcess {
  child: ChildProcess;
  workdir: string;
  output(): string;
  /** SIGTERM, then wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `ccc agent` as a real child process, the way an agent PC runs it. */
export async function startAgentProcess(options: {
  name: string;
  prefix: string;
  redis: RedisClient;
  specialties?: string;
  /** More environment; an `undefined` value removes the variable (REDIS_URL in sentinel mode). */
  env?: Record<string, string | undefined>;
  extraArgs?: string[];
  /** The agent's --workdir, e.g. a killed agent's to start it again on the same PC. @defaultValue a new one */
  workdir?: string;
  /** Another build's bin/ccc.js. @defaultValue this checkout's */
  bin?: string;
}): Promise<AgentProcess> {
  const workdir = options.workdir ?? (await mkdtemp(join(tmpdir(), `ccc-agent-${options.name}-`)));
  const args = [options.bin ?? CCC_BIN, "agent", "--name", options.name, "--workdir", workdir];
  if (options.specialties) args.push("--specialties", options.specialties);
  args.push(...(options.extraArgs ?? []));
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
      CCC_PREFIX: options.prefix,
      CLAUDE_BIN: FAKE_CLAUDE,
      CCC_CLAUDE_ENV_PASS: "FAKE_CLAUDE_*",
      CCC_HEARTBEAT_TTL_SECONDS: "5",
      LOG_LEVEL: "info",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));

  const registry = new AgentRegistry(options.redis, options.prefix);
  const deadline = Date.now() + 20_000;
  while (!(await registry.list()).some((a) => a.name === options.name)) {
    if (child.exitCode !== null) throw new Error(`agent exited at start:\n${output}`);
    if (Date.now() > deadline) throw new Error(`agent did not register:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    workdir,
    output: () => output,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal);
      const code = await exited;
      await rm(workdir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Polls until `check` returns a value, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
