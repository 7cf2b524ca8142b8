import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentRegistry } from "../src/store/agent-registry.js";
import { startAgentProcess, waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { freePort } from "./helpers/app-server.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { labeledPayload } from "./helpers/payloads.js";
import { randomPrefix } from "./helpers/redis.js";
import { startRedis, stopRedis } from "./helpers/redis-server.js";

const AGENT = "idle-pc";
const PROBE = "idle-test-probe";
/** Longer than any timer of an idle agent (its idle poll and its re-read of the stored state, 60 s). */
const IDLE_WINDOW_MS = 65_000;

/** Every command the server ran, by name, Lua's inner calls included. */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const stats = await redis.info("commandstats");
  return new Map([...stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/**
 * `ccc agent` alone on a redis-server of this test's own, with only the test's probe beside it,
 * so the server's own counts are the agent's. Then the app joins and a label must still reach
 * Claude at once: nothing but the queue's marker can wake the agent that soon.
 */
describe("an idle agent costs Redis little and still starts new work at once", () => {
  let dir: string;
  let server: ChildProcess;
  let url: string;
  let probe: Redis;
  let agent: AgentProcess;
  let cluster: Cluster | undefined;
  const prefix = randomPrefix();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ccc-idle-agent-"));
    const port = await freePort();
    server = await startRedis(port, dir);
    url = `redis://127.0.0.1:${port}`;
    probe = new Redis(url, { maxRetriesPerRequest: null, connectionName: PROBE });
    await writeFile(join(dir, "spawns.log"), "");
    agent = await startAgentProcess({
      name: AGENT,
      prefix,
      redis: probe,
      // The product's heartbeat, not the tests' quick one.
      env: { REDIS_URL: url, CCC_HEARTBEAT_TTL_SECONDS: "30", FAKE_CLAUDE_SPAWN_LOG: join(dir, "spawns.log") },
    });
  }, 60_000);
  afterAll(async () => {
    await agent?.stop();
    await cluster?.stop();
    probe?.disconnect();
    if (server) await stopRedis(server);
    await rm(dir, { recursive: true, force: true });
  });

  it("holds at most 3 connections and sends at most 1 command a second, then takes a task labelled after the idle gap within seconds", async () => {
    const registry = new AgentRegistry(probe, prefix);
    await waitFor("the agent to be idle", async () => (await registry.list()).find((a) => a.name === AGENT && a.state === "idle"));

    const before = await commandCalls(probe);
    const t0 = Date.now();
    // A measuring window, not a wait for a condition: every timer of the idle agent fires in it.
    await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS));
    const after = await commandCalls(probe);
    const seconds = (Date.now() - t0) / 1000;
    const clients = ((await probe.client("LIST")) as string).split("\n").filter((line) => line.trim() !== "");

    // Everything but the probe is the agent's, and the agent names each of its connections.
    const agentClients = clients.map((line) => /\bname=(\S*)/.exec(line)?.[1] ?? "").filter((name) => name !== PROBE);
    expect(agentClients.every((name) => name.startsWith(`ccc-agent:${AGENT}`))).toBe(true);
    expect(agentClients.length).toBeLessThanOrEqual(3);

    // The probe's own: one INFO commandstats (the second is counted after it runs) and no more.
    const byName = [...after].map(([name, calls]) => [name, calls - (before.get(name) ?? 0) - (name === "info" ? 1 : 0)] as const).filter(([, c]) => c > 0);
    const perSecond = byName.reduce((sum, [, calls]) => sum + calls, 0) / seconds;
    console.info(
      `figure: idle agent: ${agentClients.length} connections (${agentClients.join(", ")}); ${perSecond.toFixed(2)} commands/s over ${seconds.toFixed(0)} s ` +
        `(${byName.map(([name, calls]) => `${name} ${calls}`).join(", ")})`,
    );
    expect(perSecond).toBeLessThanOrEqual(1);

    // The app joins the agent's Redis and prefix; a label after the gap reaches Claude promptly.
    cluster = await startCluster({ redisUrl: url, prefix });
    const labelledAt = Date.now();
    const delivered = await cluster.deliver("issues", labeledPayload("claude", { number: 7, title: "After a long idle gap", cloneUrl: cluster.origin.url }));
    expect(delivered.status).toBe(200);
    const spawnedAt = await waitFor("Claude started for the task labelled after the gap", async () => {
      const spawns = (await readFile(join(dir, "spawns.log"), "utf8")).split("\n").map(Number);
      return spawns.find((at) => at >= labelledAt);
    });
    console.info(`figure: label → Claude started after ${seconds.toFixed(0)} s idle: ${spawnedAt - labelledAt} ms (the agent's longest idle timer: 60 s)`);
    // Well under the idle poll: the queue's marker woke the agent, not a timer.
    expect(spawnedAt - labelledAt).toBeLessThan(15_000);
  }, 180_000);
});
