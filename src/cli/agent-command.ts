import { checkClaudeBinary } from "../claude/run-claude.js";
import { Agent } from "../agent/agent.js";
import { agentConnectionName } from "../agent/agent-connection-name.js";
import { readAgentOptions, loadAgentEnvFile, type AgentFlags } from "../config/agent-options.js";
import { requireTaskSecret } from "../config/task-secret.js";
import { connectRedis } from "../shared/connect-redis.js";
import { readRedisTopology } from "../config/read-redis-topology.js";
import { createLogger } from "../shared/logger.js";
import { startTracing } from "../telemetry/start-tracing.js";
import { UserFacingError } from "../shared/user-facing-error.js";
import { readCliEnv } from "./read-cli-env.js";

/**
 * `ccc agent`: checks what the agent needs, then serves until SIGTERM or SIGINT. A wrong or
 * missing flag or variable (CCC_TASK_SECRET among them) throws ConfigError (bad usage, exit 2);
 * a missing claude or Redis, another UserFacingError (exit 1).
 */
export async function agentCommand(flags: AgentFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const settingsFile = loadAgentEnvFile(flags, env);
  readCliEnv(env);
  const topology = readRedisTopology(env);
  const options = readAgentOptions(flags, env);
  const taskSecrets = requireTaskSecret(options.CCC_TASK_SECRET, "agent");
  const log = createLogger({ level: options.LOG_LEVEL, format: options.LOG_FORMAT, name: "ccc-agent" });
  // Off (the API's no-op) unless an OTLP endpoint is set, in the shell or the agent's settings file.
  const tracing = await startTracing("agent", log, env);

  const claude = await checkClaudeBinary(options.claudeBin);
  if (!claude.ok) throw new UserFacingError(claude.message, { code: "claude-missing" });
  // Named, as the agent names the two it opens, so `CLIENT LIST` tells whose connections these are;
  // ioredis names it again on every reconnect.
  const redis = await connectRedis(topology, { connectionName: agentConnectionName(options.name), keyPrefix: options.CCC_PREFIX });
  redis.on("error", (error) => log.warn({ err: error }, "Redis connection problem; reconnecting"));

  const agent = new Agent(options, {
    redis,
    log,
    taskSecrets,
    lockDurationMs: options.lockSeconds * 1000,
    usageResetMarginMs: options.usageResetMarginSeconds * 1000,
  });
  // Listen before starting: the agent is listed in the registry while it still verifies its
  // login, and a SIGTERM then (systemd restarting it, say) must still leave the registry.
  let stopping = false;
  let started = Promise.resolve();
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now; running tasks return to the queue when their locks expire");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "stopping: running tasks go back to the queue");
    started
      .then(() => agent.stop())
      // The last spans, a few seconds at most: a collector that hangs does not hold up the exit.
      .then(() => tracing.shutdown())
      .then(() => redis.quit())
      .then(() => process.exit(0))
      .catch((error: Error) => {
        log.error({ err: error }, "stop failed");
        process.exit(1);
      });
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);

  started = agent.start();
  await started;
  log.info({ agent: options.name, claude: claude.version, workdir: options.workdir, ...(settingsFile ? { settingsFile } : {}) }, "agent ready");
}
