import type { RedisHostPort, RedisTopology } from "../shared/redis-topology.js";
import { RedisSettingsError } from "../shared/redis-settings-error.js";

const DEFAULT_URL = "redis://127.0.0.1:6379";
const SENTINELS_EXAMPLE = "10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379";
const CLUSTER_EXAMPLE = "redis://10.0.0.1:6379,redis://10.0.0.2:6379,redis://10.0.0.3:6379";
/** `host:port` or `[v6]:port`. */
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

const set = (value: string | undefined): string | undefined => (value?.trim() ? value.trim() : undefined);

function parseSentinels(text: string): RedisHostPort[] {
  return text.split(",").map((entry) => {
    const match = HOST_PORT.exec(entry.trim());
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65_535)
      throw new RedisSettingsError(
        `REDIS_SENTINELS is not a list of host:port ("${entry.trim()}" is not one): write it as host:port,host:port, e.g. ${SENTINELS_EXAMPLE}.`,
      );
    return { host: match[1]!.replace(/^\[(.*)\]$/, "$1"), port };
  });
}

/** REDIS_CLUSTER_NODES's seed nodes, all `redis://` or all `rediss://`; credentials from the first that has them. */
function parseClusterNodes(text: string): { nodes: RedisHostPort[]; tls: boolean; fromUrl?: URL } {
  const bad = (entry: string, why: string) =>
    new RedisSettingsError(`REDIS_CLUSTER_NODES is not a list of redis:// URLs ("${entry}" ${why}): write it as ${CLUSTER_EXAMPLE}.`);
  const urls = text.split(",").map((raw) => {
    const entry = raw.trim();
    let url: URL;
    try {
      url = new URL(/^[a-z]+:\/\//.test(entry) ? entry : `redis://${entry}`);
    } catch {
      throw bad(entry, "is not a URL");
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw bad(entry, `starts with ${url.protocol}//`);
    const port = Number(url.port || "6379");
    if (!url.hostname || port < 1 || port > 65_535) throw bad(entry, "has no host:port");
    if (url.pathname !== "" && url.pathname !== "/") throw bad(entry, "names a database; a Redis Cluster has only database 0");
    return url;
  });
  const tls = urls[0]!.protocol === "rediss:";
  if (urls.some((url) => (url.protocol === "rediss:") !== tls))
    throw new RedisSettingsError("REDIS_CLUSTER_NODES mixes redis:// and rediss://: every node of a cluster speaks TLS or none does; use one scheme.");
  const fromUrl = urls.find((url) => url.username || url.password);
  return {
    nodes: urls.map((url) => ({ host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(url.port || "6379") })),
    tls,
    ...(fromUrl ? { fromUrl } : {}),
  };
}

/**
 * The Redis topology from the environment, the same in every process (the app and its runner
 * dispatcher, `ccc agent`, every `ccc` command): one server, sentinels, or a Redis Cluster. Pure; a wrong combination throws
 * RedisSettingsError naming the variable and the fix. REDIS_USERNAME and REDIS_PASSWORD win
 * over credentials in REDIS_URL.
 */
export function readRedisTopology(env: NodeJS.ProcessEnv = process.env): RedisTopology {
  const url = set(env.REDIS_URL);
  const sentinels = set(env.REDIS_SENTINELS);
  const clusterNodes = set(env.REDIS_CLUSTER_NODES);
  const caFile = set(env.REDIS_TLS_CA);
  const access = (fromUrl?: URL) => {
    const username = set(env.REDIS_USERNAME) ?? (fromUrl?.username ? decodeURIComponent(fromUrl.username) : undefined);
    const password = env.REDIS_PASSWORD || (fromUrl?.password ? decodeURIComponent(fromUrl.password) : undefined);
    return { ...(username ? { username } : {}), ...(password ? { password } : {}), ...(caFile ? { tlsCaFile: caFile } : {}) };
  };
  if (clusterNodes) {
    if (url)
      throw new RedisSettingsError(
        "REDIS_URL and REDIS_CLUSTER_NODES are both set: unset REDIS_URL to use the Redis Cluster, or unset REDIS_CLUSTER_NODES to use the one server at REDIS_URL.",
      );
    if (sentinels)
      throw new RedisSettingsError(
        "REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set: a Redis Cluster fails over by itself, without sentinels; unset one of the two.",
      );
    const { nodes, tls, fromUrl } = parseClusterNodes(clusterNodes);
    if (caFile && !tls)
      throw new RedisSettingsError("REDIS_TLS_CA is set but REDIS_CLUSTER_NODES are redis://: write rediss:// to connect over TLS, or unset REDIS_TLS_CA.");
    return { kind: "cluster", nodes, ...access(fromUrl), tls };
  }
  if (sentinels) {
    if (url)
      throw new RedisSettingsError(
        "REDIS_URL and REDIS_SENTINELS are both set: unset REDIS_URL to find the primary through the sentinels, or unset REDIS_SENTINELS to use the one server at REDIS_URL.",
      );
    const name = set(env.REDIS_SENTINEL_NAME) ?? "mymaster";
    if (/\s/.test(name))
      throw new RedisSettingsError(`REDIS_SENTINEL_NAME "${name}" has a space in it: set it to the name in the sentinels' \`sentinel monitor <name> …\`.`);
    const sentinelPassword = env.REDIS_SENTINEL_PASSWORD || undefined;
    return {
      kind: "sentinel",
      sentinels: parseSentinels(sentinels),
      name,
      ...(sentinelPassword ? { sentinelPassword } : {}),
      ...access(),
      tls: Boolean(caFile),
    };
  }
  const text = url ?? DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new RedisSettingsError("REDIS_URL is not a URL: set it to the cluster's Redis, e.g. redis://127.0.0.1:6379 (rediss:// for TLS).");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
    throw new RedisSettingsError(`REDIS_URL starts with ${parsed.protocol}//: use redis://host:port, or rediss://host:port for TLS.`);
  const tls = parsed.protocol === "rediss:";
  if (caFile && !tls)
    throw new RedisSettingsError("REDIS_TLS_CA is set but REDIS_URL is redis://: write rediss:// to connect over TLS, or unset REDIS_TLS_CA.");
  return { kind: "single", url: text, ...access(parsed), tls };
}
