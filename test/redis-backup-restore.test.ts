import { execFile, spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { freePort } from "./helpers/app-server.js";
import { runCcc } from "./helpers/ccc-cli.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { commentPayload, labeledPayload } from "./helpers/payloads.js";
import { startRedis, stopRedis } from "./helpers/redis-server.js";

const REPO = "octo-org/hello";
const run = promisify(execFile);

/** Claude's runs on an issue's branch, from the fake CLI's log (the agent's login probes left out). */
async function runsOn(log: string, number: number): Promise<number> {
  if (!existsSync(log)) return 0;
  const lines = (await readFile(log, "utf8")).split("\n").filter((line) => line !== "");
  return lines.map((line) => JSON.parse(line) as { branch: string | null }).filter((r) => r.branch?.startsWith(`claude/issue-${number}-`)).length;
}

async function info(port: number, section: string): Promise<string> {
  const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 1 });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return await probe.info(section);
  } finally {
    probe.disconnect();
  }
}

/**
 * docs/operations.md "Backing up and restoring Redis", followed step by step: an online
 * backup with `redis-cli --rdb`, the loss of the server and its files, a restore into a new
 * directory with AOF turned back on, and the cluster carrying on from what the backup held.
 */
describe("Redis backup and restore, as docs/operations.md gives it", () => {
  let port: number;
  let scratch: string;
  let server: ChildProcess | undefined;
  let cluster: Cluster;
  let agent: AgentProcess | undefined;
  const runLog = () => join(scratch, "runs.jsonl");

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "ccc-backup-"));
    await mkdir(join(scratch, "live"));
    port = await freePort();
    server = await startRedis(port, join(scratch, "live"));
    cluster = await startCluster({ redisUrl: `redis://127.0.0.1:${port}`, env: { CCC_RECONCILE_SECONDS: "2" } });
    // Pull requests are numbered after the fake's issues: keep them clear of the issues the test names.
    cluster.github.setIssue(REPO, 900, { title: "Numbering starts above here" });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    if (server) await stopRedis(server);
    await rm(scratch, { recursive: true, force: true });
  });

  const label = (number: number) => {
    cluster.github.setIssue(REPO, number, { title: `Issue ${number}`, body: "Fix the thing." });
    return cluster.deliver("issues", labeledPayload("claude", { number, title: `Issue ${number}`, body: "Fix the thing.", cloneUrl: cluster.origin.url }));
  };
  const state = async (number: number) => (await cluster.store.get(`${REPO}#${number}`).catch(() => undefined))?.state;
  const pullsFor = (number: number) => cluster.github.pulls(REPO).filter((p) => p.head.includes(`claude/issue-${number}-`));

  it("a finished and a queued task come back from the backup; the queued one runs once, and work labelled after the backup is started again by hand", async () => {
    // Before the backup: #1 done with its PR, #2 queued (no agent running).
    agent = await cluster.startAgent({ name: "backup-pc", env: { FAKE_CLAUDE_RUN_LOG: runLog() } });
    expect((await label(1)).status).toBe(200);
    await waitFor("#1's pull request", async () => (await state(1)) === "pr-open", 60_000);
    await agent.stop();
    agent = undefined;
    expect((await label(2)).status).toBe(200);
    await waitFor("#2 to be queued", async () => (await state(2)) === "queued");

    // 1. The backup, online: Redis writes a snapshot and redis-cli saves it.
    const backup = join(scratch, "ccc-backup.rdb");
    await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "--rdb", backup]);
    expect((await stat(backup)).size).toBeGreaterThan(0);

    // After the backup: #3 queued, which the backup does not hold.
    expect((await label(3)).status).toBe(200);
    await waitFor("#3 to be queued", async () => (await state(3)) === "queued");

    // The server and its files are lost.
    server!.kill("SIGKILL");
    await new Promise((resolve) => server!.once("exit", resolve));
    server = undefined;
    await rm(join(scratch, "live"), { recursive: true, force: true });

    // 2. The restore: the snapshot as dump.rdb in a new directory, started with AOF off (with AOF
    // on, Redis would start from an empty AOF and ignore the snapshot), then AOF turned on.
    const restored = join(scratch, "restored");
    await mkdir(restored);
    await copyFile(backup, join(restored, "dump.rdb"));
    const loading = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--dir", restored, "--dbfilename", "dump.rdb", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    await waitFor("the restored Redis to answer", async () => (await info(port, "persistence").catch(() => "")).includes("loading:0"));
    await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "config", "set", "appendonly", "yes"]);
    await waitFor("the AOF to be written", async () => {
      const persistence = await info(port, "persistence");
      return persistence.includes("aof_enabled:1") && persistence.includes("aof_rewrite_in_progress:0") && !persistence.includes("aof_rewrite_scheduled:1");
    });
    await stopRedis(loading);
    // From here on it runs as before: AOF on, started from the files the restore wrote.
    server = await startRedis(port, restored);

    // What the backup held is back; what came after it is not.
    await waitFor("the app and the test to see the restored Redis", async () => (await state(1)) === "pr-open", 30_000);
    expect(await state(2)).toBe("queued");
    expect(await state(3)).toBeUndefined();
    const listed = await runCcc(cluster.prefix, ["tasks", "--json"], { REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${REPO}#1`);
    expect(listed.stdout).toContain(`${REPO}#2`);

    // The agent comes back: #2 runs once and gets its PR; #1 is not run again.
    agent = await cluster.startAgent({ name: "backup-pc", env: { FAKE_CLAUDE_RUN_LOG: runLog() } });
    await waitFor("#2's pull request", async () => (await state(2)) === "pr-open", 60_000);
    expect(pullsFor(2)).toHaveLength(1);
    expect(await runsOn(runLog(), 2)).toBe(1);
    expect(pullsFor(1)).toHaveLength(1);
    expect(await runsOn(runLog(), 1)).toBe(1);

    // #3, labelled after the backup, is started again with `/claude run`, as the docs say.
    const rerun = await cluster.deliver(
      "issue_comment",
      commentPayload("/claude run", { number: 3, title: "Issue 3", body: "Fix the thing.", cloneUrl: cluster.origin.url }),
    );
    expect(rerun.status).toBe(200);
    await waitFor("#3's pull request", async () => (await state(3)) === "pr-open", 60_000);
    expect(pullsFor(3)).toHaveLength(1);
    expect(await runsOn(runLog(), 3)).toBe(1);
  }, 240_000);
});
