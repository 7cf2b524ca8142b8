import { spawn } from "node:child_process";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect as matchers, it } from "vitest";
import { AgentRegistry } from "../src/store/agent-registry.js";
import { CCC_BIN, FAKE_CLAUDE, REPO_ROOT, startAgentProcess } from "./helpers/agent-process.js";
import { closeIntakeDeps, intakeDeps } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { enqueueDirect } from "./helpers/tasks.js";

/*
 * `ccc` run as a real process, as scripts run it: the exit code, and for --json, JSON alone on
 * stdout. 0 done, 1 failed, 2 bad usage (docs/operations.md, "Exit codes").
 */

/** What is in the cluster's Redis when the command runs; every case gets a prefix of its own. */
type Cluster = "empty" | "a queued task" | "a failed task";

interface Case {
  /** The command line after `ccc`. */
  args: string[];
  env?: Record<string, string>;
  cluster?: Cluster;
  code: 0 | 1 | 2;
  /** `--json` cases: stdout parses as JSON and matches this. */
  json?: unknown;
  /** Text cases: stdout matches this. */
  stdout?: RegExp;
  /** stderr matches this; omitted on success means stderr is empty. */
  stderr?: RegExp;
  /** stderr is exactly one line: the error, with no stack and no help dump. */
  oneLine?: boolean;
}

const TASK = "octo-org/hello#7";
const UNREACHABLE = { REDIS_URL: "redis://127.0.0.1:1" };
const REDIS_DOWN = /^ccc: Redis is not reachable at redis:\/\/127\.0\.0\.1:1 .*set REDIS_URL/;
const BAD_REDIS_URL = /^ccc: REDIS_URL is not valid \(Invalid URL\): set it to the cluster's Redis/;

/** An array holding at least these items (toMatchObject alone wants every item listed). */
const including = (...items: object[]) => matchers.arrayContaining(items.map((item) => matchers.objectContaining(item)));

const success: Case[] = [
  { args: ["status"], code: 0, stdout: /^Cluster: running\nAgents live: 0[\s\S]*No tasks yet\./ },
  { args: ["status", "--json"], code: 0, json: { agents: 0, queues: including({ queue: "tasks-general", waiting: 0 }), tasks: [] } },
  {
    args: ["status", "--json"],
    cluster: "a queued task",
    code: 0,
    json: { queues: including({ queue: "tasks-general", waiting: 1 }), tasks: [{ taskId: TASK, state: "queued" }] },
  },
  { args: ["agents"], code: 0, stdout: /^No live agents\./ },
  { args: ["agents", "--json"], code: 0, json: [] },
  { args: ["tasks"], code: 0, stdout: /^No tasks\.$/m },
  { args: ["tasks", "--json"], cluster: "a queued task", code: 0, json: { tasks: [{ taskId: TASK, state: "queued" }] } },
  { args: ["tasks", "--state", "failed", "--limit", "5", "--json"], cluster: "a queued task", code: 0, json: { tasks: [] } },
  { args: ["tasks", "show", TASK], cluster: "a queued task", code: 0, stdout: /^Task: {7}octo-org\/hello#7\nTitle: .*\nState: {6}queued\n/ },
  { args: ["tasks", "show", TASK, "--json"], cluster: "a queued task", code: 0, json: { task: { taskId: TASK, state: "queued" } } },
  { args: ["usage", "--json"], env: { CCC_BUDGETS: "team=5/5h" }, code: 0, json: { accounts: [], budgets: [{ account: "team", usd: 5, window: "5h" }] } },
  { args: ["cancel", TASK, "--json"], cluster: "a queued task", code: 0, json: { taskId: TASK, outcome: "cancelled" } },
  { args: ["retry", TASK, "--json"], cluster: "a failed task", code: 0, json: { taskId: TASK, status: "queued", run: 2 } },
  { args: ["pause", "--json"], code: 0, json: { control: { mode: "paused" } } },
  { args: ["stop"], code: 0, stdout: /^Stopped:/ },
  { args: ["resume", "--json"], code: 0, json: { control: { mode: "running" } } },
  { args: ["--help"], code: 0, stdout: /^Usage: ccc \[options\] \[command\]/ },
  { args: ["help", "status"], code: 0, stdout: /^Usage: ccc status \[options\]/ },
  { args: ["tasks", "--help"], code: 0, stdout: /--state <state>/ },
  { args: ["--version"], code: 0, stdout: /^\d+\.\d+\.\d+\n$/ },
];

const failure: Case[] = [
  { args: ["status"], env: UNREACHABLE, code: 1, stderr: REDIS_DOWN, oneLine: true },
  { args: ["agents", "--json"], env: UNREACHABLE, code: 1, stderr: REDIS_DOWN, oneLine: true },
  { args: ["pause"], env: UNREACHABLE, code: 1, stderr: REDIS_DOWN, oneLine: true },
  { args: ["agent", "--name", "pc-x"], env: UNREACHABLE, code: 1, stderr: REDIS_DOWN, oneLine: true },
  {
    args: ["agent", "--name", "pc-x"],
    env: { CLAUDE_BIN: "/nonexistent/claude" },
    code: 1,
    stderr: /^ccc: claude binary not found .*CLAUDE_BIN/,
    oneLine: true,
  },
  // Nothing live to cancel, nothing to retry: well-formed, but nothing was done.
  { args: ["cancel", TASK, "--json"], code: 1, json: { taskId: TASK, outcome: "not-live" } },
  { args: ["cancel", TASK], code: 1, stdout: /has no queued or running task/ },
  { args: ["retry", TASK, "--json"], code: 1, json: { taskId: TASK, status: "not-found" } },
  { args: ["retry", TASK, "--json"], cluster: "a queued task", code: 1, json: { taskId: TASK, status: "already-live", state: "queued" } },
  { args: ["resume", "--agent", "ghost"], code: 1, stderr: /^No live agent named ghost\./, oneLine: true },
  { args: ["tasks", "show", TASK], code: 1, stderr: /^octo-org\/hello#7 is not a task \(or its record has expired\)\.$/m, oneLine: true },
  // doctor reports a malformed REDIS_URL as a failed check rather than checking another Redis.
  {
    args: ["doctor", "--json"],
    env: { REDIS_URL: "notaurl" },
    code: 1,
    json: { ok: false, checks: including({ name: "redis", status: "fail", fix: matchers.stringContaining("REDIS_URL") }) },
  },
];

/** A usage error is one line: what is wrong, then where the right usage is. */
const usage: Case[] = [
  { args: [], code: 2, stderr: /^Usage: ccc/ },
  { args: ["bogus"], code: 2, stderr: /^ccc: unknown command 'bogus'\. See `ccc --help`\.$/m, oneLine: true },
  { args: ["stauts"], code: 2, stderr: /^ccc: unknown command 'stauts' \(Did you mean status\?\) See `ccc --help`\.$/m, oneLine: true },
  { args: ["status", "--bogus"], code: 2, stderr: /^ccc: unknown option '--bogus'\. See `ccc status --help`\.$/m, oneLine: true },
  { args: ["status", "extra"], code: 2, stderr: /^ccc: too many arguments for 'status'/, oneLine: true },
  { args: ["cancel"], code: 2, stderr: /^ccc: missing required argument 'task'\. See `ccc cancel --help`\.$/m, oneLine: true },
  { args: ["cancel", "notatask"], code: 2, stderr: /^ccc: .*'notatask' is invalid .* owner\/repo#number/, oneLine: true },
  { args: ["retry", "hello#5", "--json"], code: 2, stderr: /owner\/repo#number/, oneLine: true },
  {
    args: ["tasks", "--state", "bogus"],
    code: 2,
    stderr: /^ccc: option '--state <state>' argument 'bogus' is invalid\. Allowed choices are queued, running/,
    oneLine: true,
  },
  {
    args: ["tasks", "--limit", "abc"],
    code: 2,
    stderr: /^ccc: option '--limit <n>' argument 'abc' is invalid\. Write a whole number from 1 to 1000\. See `ccc tasks --help`\.$/m,
    oneLine: true,
  },
  { args: ["tasks", "--limit", "0", "--json"], code: 2, stderr: /--limit/, oneLine: true },
  { args: ["tasks", "show", "hello#5"], code: 2, stderr: /owner\/repo#number/, oneLine: true },
  {
    args: ["tasks", "show", TASK],
    env: { CCC_TRACE_URL: "https://jaeger.example/trace/" },
    code: 2,
    stderr: /^ccc: CCC_TRACE_URL is not valid \(an http\(s\) URL with \{traceId\} in it.*\): give your tracing UI's trace page/,
    oneLine: true,
  },
  { args: ["resume", "--agent", "no spaces"], code: 2, stderr: /^ccc: option '--agent <name>' argument 'no spaces' is invalid/, oneLine: true },
  { args: ["resume", "--agent"], code: 2, stderr: /^ccc: option '--agent <name>' argument missing\. See `ccc resume --help`\.$/m, oneLine: true },
  // Usage is checked before Redis is asked: a usage error wins over an unreachable Redis.
  { args: ["tasks", "--limit", "abc"], env: UNREACHABLE, code: 2, stderr: /--limit/, oneLine: true },
  { args: ["status"], env: { REDIS_URL: "notaurl" }, code: 2, stderr: BAD_REDIS_URL, oneLine: true },
  { args: ["status", "--json"], env: { CCC_PREFIX: "no spaces" }, code: 2, stderr: /^ccc: CCC_PREFIX is not valid/, oneLine: true },
  {
    args: ["status"],
    env: { CCC_TASK_RETENTION_DAYS: "abc" },
    code: 2,
    stderr: /^ccc: CCC_TASK_RETENTION_DAYS is not valid \(a number of days above 0 and up to 3650/,
    oneLine: true,
  },
  {
    args: ["agents"],
    env: { CCC_DEDUPE_WINDOW_HOURS: "0" },
    code: 2,
    stderr: /^ccc: CCC_DEDUPE_WINDOW_HOURS is not valid \(a number of hours above 0/,
    oneLine: true,
  },
  { args: ["status"], env: { LOG_FORMAT: "xml" }, code: 2, stderr: /^ccc: LOG_FORMAT is not valid \(expected auto, json or pretty\)/, oneLine: true },
  { args: ["usage"], env: { CCC_BUDGETS: "team=lots" }, code: 2, stderr: /^ccc: CCC_BUDGETS is not valid: "team=lots"/, oneLine: true },
  { args: ["agent", "--concurrency", "abc"], code: 2, stderr: /^ccc: --concurrency is not valid: a whole number from 1 to 16\./, oneLine: true },
  { args: ["agent", "--concurrency"], code: 2, stderr: /^ccc: option '--concurrency <n>' argument missing\. See `ccc agent --help`\.$/m, oneLine: true },
  {
    args: ["agent", "--name", "pc-x"],
    env: { CCC_CONCURRENCY: "0" },
    code: 2,
    stderr: /^ccc: CCC_CONCURRENCY is not valid: a whole number from 1 to 16\./,
    oneLine: true,
  },
  {
    args: ["agent", "--name", "pc-x"],
    env: { CCC_HEARTBEAT_TTL_SECONDS: "abc" },
    code: 2,
    stderr: /^ccc: CCC_HEARTBEAT_TTL_SECONDS is not valid: a whole number from 3 to 600\./,
    oneLine: true,
  },
  { args: ["agent", "--name", "pc-x"], env: { LOG_FORMAT: "xml" }, code: 2, stderr: /^ccc: LOG_FORMAT is not valid/, oneLine: true },
  { args: ["agent", "--name", "no spaces"], code: 2, stderr: /^ccc: --name is not valid/, oneLine: true },
  { args: ["agent"], env: { REDIS_URL: "notaurl" }, code: 2, stderr: BAD_REDIS_URL, oneLine: true },
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function ccc(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CCC_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, CLAUDE_BIN: FAKE_CLAUDE, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const label = (c: Case) => [...Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`), "ccc", ...c.args].join(" ") + (c.cluster ? ` (${c.cluster})` : "");

describe("every ccc command exits 0 on success, 1 on failure, 2 on bad usage", () => {
  let redis: Redis;
  const prefixes: string[] = [];

  beforeAll(() => {
    redis = connectRedis();
  });

  afterAll(async () => {
    await Promise.all(prefixes.map((p) => deletePrefix(redis, p)));
    await redis.quit();
  });

  /** A prefix of the case's own, holding what `cluster` says. */
  async function given(cluster: Cluster): Promise<string> {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    if (cluster === "empty") return prefix;
    const deps = intakeDeps(redis, prefix);
    try {
      const data = await enqueueDirect(deps, { number: 7, cloneUrl: "https://github.com/octo-org/hello.git" });
      if (cluster === "a failed task") {
        // A finished record whose last run's job is still kept, which is what `retry` reruns.
        await deps.store.update(data.taskId, {
          state: "failed",
          failure: { kind: "max-turns", message: "stopped at the max turns limit" },
          finishedAt: Date.now(),
        });
      }
    } finally {
      await closeIntakeDeps(deps);
    }
    return prefix;
  }

  // vitest runs at most `maxConcurrency` (5) of these at once: each is a tsx process.
  it.concurrent.for([...success, ...failure, ...usage].map((c) => [label(c), c.code, c] as const))("%s → exit %i", async ([, , c], { expect }) => {
    const prefix = await given(c.cluster ?? "empty");
    const run = await ccc(c.args, { CCC_PREFIX: prefix, ...c.env });
    const context = `ccc ${c.args.join(" ")}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;

    expect(run.code, context).toBe(c.code);
    if (c.json !== undefined) {
      // JSON alone on stdout, whatever the exit code.
      expect(() => JSON.parse(run.stdout), context).not.toThrow();
      expect(JSON.parse(run.stdout)).toMatchObject(c.json as object);
    }
    if (c.stdout) expect(run.stdout, context).toMatch(c.stdout);
    if (c.code === 2) expect(run.stdout, "usage errors print nothing on stdout").toBe("");
    if (c.stderr) expect(run.stderr, context).toMatch(c.stderr);
    else expect(run.stderr, context).toBe("");
    if (c.oneLine)
      expect(
        run.stderr.split("\n").filter((line) => line.trim() !== ""),
        context,
      ).toHaveLength(1);
    expect(run.stderr, "no stack trace").not.toMatch(/^\s+at /m);
  });

  it("`ccc agent` stopped by SIGTERM as soon as it is listed, still starting, exits 0 and leaves the registry", async ({ expect }) => {
    const prefix = await given("empty");
    const agent = await startAgentProcess({ name: "exit-codes", prefix, redis });
    expect(await agent.stop("SIGTERM"), agent.output()).toBe(0);
    expect(await new AgentRegistry(redis, prefix).list()).toEqual([]);
  });
}, 60_000);
