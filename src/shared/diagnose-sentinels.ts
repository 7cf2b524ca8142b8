import { Redis } from "ioredis";
import type { RedisTopology } from "./redis-topology.js";

type SentinelTopology = Extract<RedisTopology, { kind: "sentinel" }>;

/** What the sentinels said about the master group, asked one by one. */
export type SentinelDiagnosis =
  /** No sentinel answered; why, per sentinel. */
  | { kind: "no-sentinel"; errors: string[] }
  /** The sentinels answered but monitor no group by that name; the names they do monitor. */
  | { kind: "unknown-name"; known: string[] }
  /** A sentinel named the primary: the problem is reaching it. */
  | { kind: "primary"; host: string; port: number };

/**
 * Asks each sentinel directly for the group's primary, for a start that failed: ioredis only
 * says "All sentinels are unreachable" whether they are down or do not know the name.
 */
export async function diagnoseSentinels(topology: SentinelTopology, timeoutMs = 2_000): Promise<SentinelDiagnosis> {
  const errors: string[] = [];
  const known = new Set<string>();
  let answered = false;
  for (const { host, port } of topology.sentinels) {
    const sentinel = new Redis({
      host,
      port,
      ...(topology.sentinelPassword ? { password: topology.sentinelPassword } : {}),
      lazyConnect: true,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    sentinel.on("error", () => {});
    try {
      await sentinel.connect();
      const address = (await sentinel.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", topology.name)) as [string, string] | null;
      answered = true;
      if (address) return { kind: "primary", host: address[0], port: Number(address[1]) };
      const masters = (await sentinel.call("SENTINEL", "MASTERS")) as string[][];
      for (const fields of masters) {
        const at = fields.indexOf("name");
        if (at >= 0 && fields[at + 1]) known.add(fields[at + 1]!);
      }
    } catch (error) {
      errors.push(`${host}:${port}: ${(error as Error).message}`);
    } finally {
      sentinel.disconnect();
    }
  }
  return answered ? { kind: "unknown-name", known: [...known].sort() } : { kind: "no-sentinel", errors };
}
