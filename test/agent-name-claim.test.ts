import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NameClaim } from "../src/agent/name-claim.js";
import { AgentRegistry } from "../src/store/agent-registry.js";
import { CCC_BIN, FAKE_CLAUDE, startAgentProcess, waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { connectRedis, deletePrefix, randomPrefix, REDIS_URL } from "./helpers/redis.js";

/** The heartbeat TTL the agents run with here (startAgentProcess sets the same). */
const TTL_SECONDS = 5;

interface Attempt {
  /** The exit code, or "listed" when the agent started and is in the registry. */
  outcome: number | "listed";
  stderr: string;
  /** SIGTERM and wait, for one that started. */
  stop(): Promise<void>;
}

/** `ccc agent --name <name>` until it exits or is listed. */
async function tryAgent(redis: Redis, prefix: string, name: string): Promise<Attempt> {
  const workdir = await mkdtemp(join(tmpdir(), `ccc-claim-${name}-`));
  const child = spawn(process.execPath, [CCC_BIN, "agent", "--name", name, "--workdir", workdir], {
    env: { ...process.env, REDIS_URL, CCC_PREFIX: prefix, CLAUDE_BIN: FAKE_CLAUDE, CCC_HEARTBEAT_TTL_SECONDS: String(TTL_SECONDS) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? -1)));
  const registry = new AgentRegistry(redis, prefix);
  const listed = async () => (await registry.list()).some((a) => a.name === name && a.pid === child.pid);
  const outcome = await Promise.race([
    exited,
    waitFor(`${name} listed or exited`, async () => (child.exitCode === null && (await listed()) ? ("listed" as const) : false), 20_000),
  ]);
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    await rm(workdir, { recursive: true, force: true });
  };
  if (outcome !== "listed") await stop();
  return { outcome, stderr, stop };
}

/** The one line a second agent of a live name prints. */
const refusal = (name: string, pid: number | undefined) =>
  new RegExp(
    `^ccc: an agent named ${name} is already running on ${hostname().replace(/[.]/g, "\\.")} \\(pid ${pid}, seen \\d+s ago\\); pick another --name or stop it\\n$`,
  );

describe("an agent name is one live process in the cluster", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(() => {
    redis = connectRedis();
  });
  afterEach(async () => {
    await Promise.all(cleanup.splice(0).map((stop) => stop()));
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("a second `ccc agent --name pc-x` is refused with exit 1 naming the host and pid; the first keeps running", async () => {
    const first: AgentProcess = await startAgentProcess({ name: "pc-x", prefix, redis });
    cleanup.push(() => first.stop());

    const second = await tryAgent(redis, prefix, "pc-x");
    expect(second.outcome, second.stderr).toBe(1);
    expect(second.stderr).toMatch(refusal("pc-x", first.child.pid));
    expect(first.child.exitCode).toBeNull();
    const listed = (await new AgentRegistry(redis, prefix).list()).filter((a) => a.name === "pc-x");
    expect(listed.map((a) => [a.host, a.pid])).toEqual([[hostname(), first.child.pid]]);
  }, 40_000);

  it("after the first is killed with SIGKILL, its name starts again within the heartbeat TTL", async () => {
    const first = await startAgentProcess({ name: "pc-y", prefix, redis });
    cleanup.push(() => first.stop());
    first.child.kill("SIGKILL");
    const killedAt = Date.now();

    // Started over and over, as a service manager would: refused while the dead one's name is held.
    const started = await waitFor(
      "pc-y to start again",
      async () => {
        const attempt = await tryAgent(redis, prefix, "pc-y");
        if (attempt.outcome === "listed") return attempt;
        expect(attempt.stderr).toMatch(refusal("pc-y", first.child.pid));
        return false;
      },
      (TTL_SECONDS + 15) * 1000,
    );
    cleanup.push(() => started.stop());
    // The name was free at most one TTL after the last heartbeat; a start takes about a second more.
    expect(Date.now() - killedAt).toBeLessThan((TTL_SECONDS + 5) * 1000);
  }, 60_000);

  it("a stopped agent's name is free at once", async () => {
    const first = await startAgentProcess({ name: "pc-z", prefix, redis });
    expect(await first.stop("SIGTERM")).toBe(0);
    const again = await tryAgent(redis, prefix, "pc-z");
    cleanup.push(() => again.stop());
    expect(again.outcome, again.stderr).toBe("listed");
  }, 40_000);

  it("two agents started at once with one name: one runs, the other is refused", async () => {
    const attempts = await Promise.all([tryAgent(redis, prefix, "pc-twin"), tryAgent(redis, prefix, "pc-twin")]);
    for (const attempt of attempts) cleanup.push(() => attempt.stop());
    expect(attempts.map((a) => a.outcome).sort()).toEqual([1, "listed"]);
    expect(attempts.find((a) => a.outcome === 1)!.stderr).toMatch(/^ccc: an agent named pc-twin is already running on /);
  }, 40_000);

  it("claims are atomic: of two claims at the same moment exactly one wins, and only the winner can release it", async () => {
    const claims = [1, 2].map((pid) => new NameClaim({ redis, prefix, name: "racer", ttlMs: 5_000, host: `host-${pid}`, pid }));
    const results = await Promise.allSettled(claims.map((c) => c.claim()));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const loser = claims[results.findIndex((r) => r.status === "rejected")]!;
    const winner = claims[results.findIndex((r) => r.status === "fulfilled")]!;
    await loser.release();
    await expect(loser.claim()).rejects.toThrow(/already running on host-\d \(pid \d, seen 0s ago\)/);
    expect(await winner.renew()).toBe(true);
    await winner.release();
    await expect(loser.claim()).resolves.toBeUndefined();
  });
});
