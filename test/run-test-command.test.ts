import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runTestCommand } from "../src/agent/run-test-command.js";
import { silentLogger } from "../src/shared/logger.js";
import { waitFor } from "./helpers/agent-process.js";

/** Running and not a zombie (where PID 1 never reaps orphans a killed one stays `Z`). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ccc-test-command-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (command: string, timeoutMs = 20_000, signal?: AbortSignal) => runTestCommand({ command, cwd: dir, timeoutMs, signal, log: silentLogger });

describe("the repository's test command, as a real process", () => {
  it("runs with sh -c in the worktree: pipes and && work, stdout and stderr are both kept, the exit code is the command's", async () => {
    writeFileSync(join(dir, "a.txt"), "one\ntwo\n");
    const passed = await run("wc -l < a.txt && echo to-stderr >&2");
    expect(passed).toMatchObject({ exitCode: 0, timedOut: false });
    expect(passed.output).toMatch(/2\n/);
    expect(passed.output).toContain("to-stderr");
    expect(await run("echo failing; exit 3")).toMatchObject({ exitCode: 3, timedOut: false, output: "failing\n" });
  });

  it("gets the allowlisted environment of Claude, git's guard and CI=true, never the agent's secrets", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { CCC_TASK_SECRET: "s3cret-task-key", GITHUB_TOKEN: "ghp_x", REDIS_URL: "redis://:pw@h:6379" });
    try {
      const { output } = await run("env");
      expect(output).toContain("CI=true");
      expect(output).toContain("GIT_CONFIG_KEY_0=core.fsmonitor");
      expect(output).toMatch(/^PATH=/m);
      expect(output).not.toContain("CCC_TASK_SECRET");
      expect(output).not.toContain("GITHUB_TOKEN");
      expect(output).not.toContain("REDIS_URL");
    } finally {
      process.env = saved;
    }
  });

  it("a timeout kills the whole process tree, the command's children included, and reports no exit code", async () => {
    const pids = join(dir, "pids");
    // A test runner that starts a server (the background sleep) and never ends.
    const started = Date.now();
    const ran = await run(`sleep 300 & echo $! > ${pids}; echo started; sleep 300`, 1_000);
    expect(ran).toMatchObject({ exitCode: null, timedOut: true });
    expect(ran.output).toContain("started");
    expect(Date.now() - started).toBeLessThan(10_000);
    const child = Number(readFileSync(pids, "utf8"));
    expect(child).toBeGreaterThan(0);
    await waitFor("the background child to be gone", async () => !isRunning(child), 5_000);
  });

  it("what the tests leave running after they pass is killed too", async () => {
    const pids = join(dir, "pids");
    expect(await run(`(sleep 300 & echo $! > ${pids}); echo done`)).toMatchObject({ exitCode: 0 });
    const child = Number(readFileSync(pids, "utf8"));
    await waitFor("the leftover server to be gone", async () => !isRunning(child), 5_000);
  });

  it("an abort (a cancel) stops it at once", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort("cancelled"), 300);
    const ran = await run("sleep 300", 60_000, controller.signal);
    expect(ran).toMatchObject({ exitCode: null, timedOut: false });
    expect(ran.durationMs).toBeLessThan(10_000);
  });
});
