import type { Redis } from "ioredis";
import { serverCounts, type ServerCounts } from "./idle-agents.js";

/*
 * What bench/scale.ts reads from the servers themselves, summed over every server it is given:
 * one for a single Redis, each master of a cluster.
 */

/** INFO clients, stats and commandstats of each server, in the order given. */
export function countEach(servers: readonly Redis[]): Promise<ServerCounts[]> {
  return Promise.all(servers.map(serverCounts));
}

/** INFO clients, stats and commandstats, summed. */
export async function countAll(servers: readonly Redis[]): Promise<ServerCounts> {
  return sumCounts(await countEach(servers));
}

export function sumCounts(counts: readonly ServerCounts[]): ServerCounts {
  const byName = new Map<string, number>();
  for (const count of counts) for (const [name, calls] of count.byName) byName.set(name, (byName.get(name) ?? 0) + calls);
  return { clients: counts.reduce((s, c) => s + c.clients, 0), processed: counts.reduce((s, c) => s + c.processed, 0), byName };
}

/** Commands by name between two counts, per agent per second, the probes' INFO left out. */
export function byName(before: ServerCounts, after: ServerCounts, seconds: number, agents: number): string {
  return [...after.byName]
    .map(([name, calls]) => [name, calls - (before.byName.get(name) ?? 0)] as const)
    .filter(([name, calls]) => calls > 0 && name !== "info")
    .sort((a, b) => b[1] - a[1])
    .map(([name, calls]) => `${name} ${(calls / seconds / agents).toFixed(3)}`)
    .join(", ");
}

/** Connections by client name over every server, agent names blanked. */
export async function connectionsByName(servers: readonly Redis[]): Promise<Map<string, number>> {
  const shapes = new Map<string, number>();
  for (const server of servers) {
    for (const line of ((await server.client("LIST")) as string).split("\n")) {
      if (!line.trim()) continue;
      const shape = (/\bname=(\S*)/.exec(line)?.[1] || "(unnamed)").replace(/scale-\d+/g, "<agent>");
      shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
    }
  }
  return shapes;
}

export async function sum(servers: readonly Redis[], read: (redis: Redis) => Promise<number>): Promise<number> {
  return (await Promise.all(servers.map(read))).reduce((s, n) => s + n, 0);
}

/** CPU seconds the server has used (user + system), from INFO cpu. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
}
