import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { diagnoseSentinels } from "./diagnose-sentinels.js";
import { redactSecrets } from "./redact.js";
import { redisOptions } from "./redis-options.js";
import { RedisSettingsError } from "./redis-settings-error.js";
import { describeTopology, type RedisTopology } from "./redis-topology.js";
import { UserFacingError } from "./user-facing-error.js";

const AUTH_ERROR = /^(WRONGPASS|NOAUTH|NOPERM)/;

/** Redis could not be reached at start; the message says where it looked and what to do. */
export class RedisUnavailableError extends UserFacingError {
  override readonly name = "RedisUnavailableError";
  declare readonly code: "redis-unavailable";
  constructor(where: string, cause: string, hint?: string) {
    super(`Redis is not reachable at ${redactSecrets(where)} (${redactSecrets(cause)}).`, {
      code: "redis-unavailable",
      hint:
        hint ??
        (AUTH_ERROR.test(cause)
          ? "Check REDIS_USERNAME and REDIS_PASSWORD (or the user and password in REDIS_URL), and that the ACL user is on."
          : "Start redis-server, or set REDIS_URL (or REDIS_SENTINELS) to the cluster's Redis."),
    });
  }
}

export interface ConnectRedisOptions {
  /** @defaultValue 5000 */
  timeoutMs?: number;
  /** Reads REDIS_TLS_CA. @defaultValue fs.readFileSync */
  readFile?: (path: string) => string;
}

/** The CA file's text; an unreadable file or one that is no PEM certificate is a wrong setting. */
function readCa(path: string, readFile: (path: string) => string): string {
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

/**
 * Connects to the topology and pings once, so a wrong setting fails at start with one clear
 * line instead of endless reconnect logs. After that ioredis reconnects by itself (with
 * sentinels, to whichever primary they name). A string is one server's URL (benches, tests).
 */
export async function connectRedis(target: RedisTopology | string, options: ConnectRedisOptions = {}): Promise<Redis> {
  const topology: RedisTopology = typeof target === "string" ? { kind: "single", url: target, tls: target.startsWith("rediss:") } : target;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const ca = topology.tlsCaFile ? readCa(topology.tlsCaFile, options.readFile ?? ((path) => readFileSync(path, "utf8"))) : undefined;
  const redis = new Redis(redisOptions(topology, { ...(ca ? { ca } : {}), connectTimeoutMs: timeoutMs }));
  // The first connection error ends the start; the ping below would otherwise wait out its timeout.
  let failed: (error: Error) => void = () => {};
  const firstError = new Promise<never>((_, reject) => (failed = reject));
  firstError.catch(() => {});
  redis.on("error", (error: Error) => failed(error));
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      firstError,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
  } catch (error) {
    redis.disconnect();
    const cause = (error as Error).message;
    if (topology.kind === "sentinel" && !AUTH_ERROR.test(cause)) throw await explainSentinelFailure(topology, cause);
    throw new RedisUnavailableError(describeTopology(topology), cause);
  } finally {
    failed = () => {};
    redis.removeAllListeners("error");
  }
  return redis;
}
