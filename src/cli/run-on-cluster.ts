import { connectRedis } from "../shared/connect-redis.js";
import { readRedisTopology } from "../config/read-redis-topology.js";
import type { ClusterDeps } from "./cluster-commands.js";
import type { ExitCode } from "./exit-code.js";
import { processOutput } from "./output.js";
import { readCliEnv } from "./read-cli-env.js";

/**
 * Runs a command against the cluster's Redis and returns its exit code. A wrong REDIS_URL, sentinel setting or
 * CCC_PREFIX throws before connecting; an unreachable Redis throws RedisUnavailableError.
 */
export async function runOnCluster(flags: { json?: boolean }, run: (deps: ClusterDeps) => Promise<ExitCode>): Promise<ExitCode> {
  const env = readCliEnv();
  const redis = await connectRedis(readRedisTopology(), { keyPrefix: env.CCC_PREFIX });
  try {
    return await run({ redis, prefix: env.CCC_PREFIX, output: processOutput, json: Boolean(flags.json) });
  } finally {
    redis.disconnect();
  }
}
