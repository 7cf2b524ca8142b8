import { readFileSync } from "node:fs";
import calculateSlot from "cluster-key-slot";
import { Cluster, Redis } from "ioredis";
import { clusterStateProblem, parseClusterInfo } from "./cluster-state.js";
import { diagnoseCluster } from "./diagnose-cluster.js";
import { diagnoseSentinels } from "./diagnose-sentinels.js";
import { redactSecrets } from "./redact.js";
import { clusterOptions, redisOptions } from "./redis-options.js";
import type { RedisClient } from "./redis-client.js";
import { RedisSettingsError } from "./redis-settings-error.js";
import { describeTopology, type RedisTopology } from "./redis-topology.js";
import { UserFacingError } from "./user-facing-error.js";

const AUTH_ERROR = /^(WRONGPASS|NOAUTH|NOPERM)/;
const AUTH_HINT = "Check REDIS_USERNAME and REDIS_PASSWORD (or the user and password in REDIS_URL), and that the ACL user is on.";

/** Redis could not be reached at start; the message says where it looked and what to do. */
export class RedisUnavailableError extends UserFacingError {
  override readonly name = "RedisUnavailableError";
  declare readonly code: "redis-unavailable";
  constructor(where: string, cause: string, hint?: string) {
    super(`Redis is not reachable at ${redactSecrets(where)} (${redactSecrets(cause)}).`, {
      code: "redis-unavailable",
      hint: hint ?? (AUTH_ERROR.test(cause) ? AUTH_HINT : "Start redis-server, or set REDIS_URL (or REDIS_SENTINELS) to the cluster's Redis."),
    });
  }
}

export interface ConnectRedisOptions {
  /** @defaultValue 5000 */
  timeoutMs?: number;
  /** Reads REDIS_TLS_CA. @defaultValue fs.readFileSync */
  readFile?: (path: string) => string;
  /** `CLIENT SETNAME` of the connection (of each of its node connections on a Redis Cluster), set again on every reconnect. */
  connectionName?: string;
  /**
   * The prefix of the keys the caller uses (CCC_PREFIX): on a Redis Cluster the start-up checks
   * go to the master that serves its slot, the one node the caller then talks to, so no other
   * node gets a connection. @defaultValue any master
   */
  keyPrefix?: string;
}

/** The CA file's text; an unreadable file or one that is no PEM certificate is a wrong setting. */
export function readCa(path: string, readFile: (path: string) => string): string {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new RedisSettingsError(
      `REDIS_TLS_CA ${path} cannot be read (${reason}): set it to the path of the PEM file of the CA that signed Redis's certificate.`,
    );
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----"))
    throw new RedisSettingsError(`REDIS_TLS_CA ${path} holds no PEM certificate: set it to the CA's certificate (-----BEGIN CERTIFICATE-----).`);
  return text;
}

/** Why a sentinel start failed, in words that name the variable to change. */
async function explainSentinelFailure(topology: Extract<RedisTopology, { kind: "sentinel" }>, cause: string): Promise<Error> {
  const where = describeTopology(topology);
  const diagnosis = await diagnoseSentinels(topology);
  switch (diagnosis.kind) {
    case "no-sentinel":
      return new RedisUnavailableError(
        where,
        `no sentinel answered: ${diagnosis.errors.join("; ")}`,
        "Start the sentinels, or set REDIS_SENTINELS to theirs (host:port,…).",
      );
    case "unknown-name":
      return new RedisSettingsError(
        `REDIS_SENTINEL_NAME "${topology.name}" is not a master group the sentinels at ${topology.sentinels.map((s) => `${s.host}:${s.port}`).join(",")} monitor` +
          ` (they monitor: ${diagnosis.known.join(", ") || "none"}): set REDIS_SENTINEL_NAME to the name in their \`sentinel monitor <name> …\`.`,
      );
    case "primary":
      return new RedisUnavailableError(`${where}, primary ${diagnosis.host}:${diagnosis.port}`, cause);
  }
}

/** Why a cluster start failed, in words that name the variable or the command that fixes it. */
async function explainClusterFailure(topology: Extract<RedisTopology, { kind: "cluster" }>, cause: string, ca?: string): Promise<Error> {
  const where = describeTopology(topology);
  const diagnosis = await diagnoseCluster(topology, ca ? { ca } : {});
  switch (diagnosis.kind) {
    case "no-node": {
      const why = `no node answered: ${diagnosis.errors.join("; ")}`;
      const refused = diagnosis.errors.some((error) => AUTH_ERROR.test(error.replace(/^\S+: /, "")));
      return new RedisUnavailableError(
        where,
        why,
        refused ? AUTH_HINT : "Start the cluster's nodes, or set REDIS_CLUSTER_NODES to some of theirs (redis://host:port,…).",
      );
    }
    case "not-a-cluster":
      return new RedisSettingsError(
        `REDIS_CLUSTER_NODES names ${diagnosis.node}, which is a Redis without cluster support (cluster-enabled no): set REDIS_URL=redis://${diagnosis.node} instead, or list the nodes of a Redis Cluster.`,
      );
    case "state": {
      const problem = clusterStateProblem(diagnosis.state, diagnosis.node);
      return problem ? new RedisSettingsError(`REDIS_CLUSTER_NODES: ${problem}`) : new RedisUnavailableError(where, cause);
    }
  }
}

/** The master serving `keyPrefix`'s slot, as the slot map just read says; else any master. */
function masterFor(redis: Cluster, keyPrefix: string | undefined): Redis | undefined {
  const masters = redis.nodes("master");
  const key = keyPrefix === undefined ? undefined : redis.slots[calculateSlot(`${keyPrefix}:`)]?.[0];
  return masters.find((node) => `${node.options.host}:${node.options.port}` === key) ?? masters[0];
}

/**
 * Pings the cluster and throws when it leaves a slot unserved (the product's keys could land on
 * it), both on the master that serves the keys.
 */
async function checkCluster(redis: Cluster, topology: Extract<RedisTopology, { kind: "cluster" }>, keyPrefix?: string): Promise<void> {
  const node = masterFor(redis, keyPrefix);
  if (!node) throw new RedisUnavailableError(describeTopology(topology), "the cluster lists no master");
  await node.ping();
  const state = parseClusterInfo(String(await node.call("CLUSTER", "INFO")));
  const problem = clusterStateProblem(state, `${node.options.host}:${node.options.port}`);
  if (problem) throw new RedisSettingsError(`REDIS_CLUSTER_NODES: ${problem}`);
}

/**
 * Connects to the topology and pings once, so a wrong setting fails at start with one clear
 * line instead of endless reconnect logs. After that ioredis reconnects by itself (with
 * sentinels, to whichever primary they name; on a Redis Cluster, to whichever master serves a
 * slot now). A string is one server's URL (benches, tests).
 */
export async function connectRedis(target: string, options?: ConnectRedisOptions): Promise<Redis>;
export async function connectRedis(target: RedisTopology, options?: ConnectRedisOptions): Promise<RedisClient>;
export async function connectRedis(target: RedisTopology | string, options: ConnectRedisOptions = {}): Promise<RedisClient> {
  const topology: RedisTopology = typeof target === "string" ? { kind: "single", url: target, tls: target.startsWith("rediss:") } : target;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const ca = topology.tlsCaFile ? readCa(topology.tlsCaFile, options.readFile ?? ((path) => readFileSync(path, "utf8"))) : undefined;
  const extras = { ...(ca ? { ca } : {}), connectTimeoutMs: timeoutMs };
  const named = options.connectionName ? { connectionName: options.connectionName } : {};
  let redis: RedisClient;
  if (topology.kind === "cluster") {
    const settings = clusterOptions(topology, extras);
    redis = new Cluster(topology.nodes, { ...settings, redisOptions: { ...settings.redisOptions, ...named } });
  } else redis = new Redis({ ...redisOptions(topology, extras), ...named });
  // The first connection error ends the start; the ping below would otherwise wait out its timeout.
  let failed: (error: Error) => void = () => {};
  const firstError = new Promise<never>((_, reject) => (failed = reject));
  firstError.catch(() => {});
  redis.on("error", (error: Error) => failed(error));
  try {
    await Promise.race([
      redis.connect().then(async () => {
        if (topology.kind === "cluster") await checkCluster(redis as Cluster, topology, options.keyPrefix);
        else await redis.ping();
      }),
      firstError,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
  } catch (error) {
    redis.disconnect();
    if (error instanceof RedisSettingsError) throw error;
    const cause = (error as Error).message;
    if (topology.kind === "cluster" && !AUTH_ERROR.test(cause)) throw await explainClusterFailure(topology, cause, ca);
    if (topology.kind === "sentinel" && !AUTH_ERROR.test(cause)) throw await explainSentinelFailure(topology, cause);
    throw new RedisUnavailableError(describeTopology(topology), cause);
  } finally {
    failed = () => {};
    redis.removeAllListeners("error");
  }
  return redis;
}
