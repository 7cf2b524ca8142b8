import { run, type Probot } from "probot";
import { AgentRegistry } from "../store/agent-registry.js";
import { readAppEnv } from "../config/app-env.js";
import { TaskQueues } from "../queue/task-queues.js";
import { TaskStore } from "../queue/task-store.js";
import { EventQueue } from "../queue/event-queue.js";
import { Reporter } from "../reporter/reporter.js";
import { connectRedis } from "../shared/connect-redis.js";
import { readRedisTopology } from "../config/read-redis-topology.js";
import { describeTopology } from "../shared/redis-topology.js";
import { createLogger } from "../shared/logger.js";
import { startTracing } from "../telemetry/start-tracing.js";
import { UserFacingError } from "../shared/user-facing-error.js";
import { Dispatcher } from "../dispatcher/dispatcher.js";
import { mountOps } from "../api/mount-ops.js";
import { createApp } from "./create-app.js";
import { cachedLiveSpecialties } from "./live-specialties-cache.js";
import { dotEnvPath, ensureApiToken, ensureTaskSecret, loadDotEnv } from "../config/dotenv.js";
import { requireTaskSecret } from "../config/task-secret.js";
import { Reconciler } from "../reconciler/reconciler.js";
import { CiWatchQueue } from "../queue/ci-watch-queue.js";
import { CiWatcher } from "./ci/ci-watcher.js";
import type { IntakeDeps } from "./intake-deps.js";
import { checkBlockedTask } from "./check-dependencies.js";
import { requeueHeldJob } from "./release-blocked-task.js";
import { requireWebhookSecret } from "./require-webhook-secret.js";
import { explainListenFailure } from "./listen-failure.js";
import { explainWebhookProxyFailure } from "./webhook-proxy.js";

/** The ops repository's installation, looked up once with the app's own credentials. */
function opsRepoResolver(app: Probot, fullName: string) {
  const [owner, repo] = fullName.split("/") as [string, string];
  let found: Promise<{ owner: string; repo: string; installationId: number }> | undefined;
  return () => {
    found ??= app
      .auth()
      .then((octokit) => octokit.rest.apps.getRepoInstallation({ owner, repo }))
      .then(({ data }) => ({ owner, repo, installationId: data.id }));
    // A failed lookup is retried next time rather than cached.
    return found.catch((error: unknown) => {
      found = undefined;
      throw error;
    });
  };
}

/** `npm start`: the GitHub App, and the reporter that writes back to GitHub. */
async function main(): Promise<void> {
  // One source of settings: `.env` under the shell's environment, read before anything else,
  // and handed to Probot as is (Probot's own loader would let the file win).
  loadDotEnv();
  const firstRun = !process.env.APP_ID;
  const firstRunToken = firstRun ? ensureApiToken() : undefined;
  const firstRunSecret = firstRun ? ensureTaskSecret() : undefined;
  const settings = { ...process.env };
  requireWebhookSecret(settings);
  const env = readAppEnv(settings);
  const topology = readRedisTopology(settings);
  const taskSecrets = requireTaskSecret(env.CCC_TASK_SECRET, "app");
  const log = createLogger({ level: env.LOG_LEVEL, format: env.LOG_FORMAT, name: "ccc-app" });
  // Before anything that makes spans; off (the API's no-op) unless an OTLP endpoint is set. The
  // dispatcher runs in this process, so its spans are the app's (`ccc-app`).
  const tracing = await startTracing("app", log, settings);
  if (firstRunToken) log.info(`first run: wrote a random CCC_API_TOKEN to ${dotEnvPath()} for /api/v1, /metrics and the dashboard`);
  if (firstRunSecret) log.info(`first run: wrote a random CCC_TASK_SECRET to ${dotEnvPath()}; the app signs tasks with it, so give every agent a copy`);
  const redis = await connectRedis(topology, { keyPrefix: env.CCC_PREFIX });
  redis.on("error", (error) => log.warn({ err: error }, "Redis connection problem; reconnecting"));
  log.info({ redis: describeTopology(topology) }, "connected to Redis");
  const store = new TaskStore(redis, env.CCC_PREFIX);
  const registry = new AgentRegistry(redis, env.CCC_PREFIX);
  const deps: IntakeDeps = {
    redis,
    prefix: env.CCC_PREFIX,
    store,
    queues: new TaskQueues({ connection: redis, prefix: env.CCC_PREFIX, secrets: taskSecrets }),
    events: new EventQueue({ connection: redis, prefix: env.CCC_PREFIX }),
    registry,
    liveSpecialties: cachedLiveSpecialties(registry),
    log,
    permissionCacheSeconds: env.CCC_PERMISSION_CACHE_SECONDS,
    configCacheSeconds: env.CCC_CONFIG_CACHE_SECONDS,
    clusterAdmins: env.CCC_ADMINS,
    ciWatch: new CiWatchQueue({ connection: redis, prefix: env.CCC_PREFIX }),
    ciSettleMs: env.CCC_CI_SETTLE_SECONDS * 1000,
  };
  const ops = mountOps(env, deps, settings, tracing);

  let reporter: Reporter | undefined;
  let dispatcher: Dispatcher | undefined;
  let reconciler: Reconciler | undefined;
  let ciWatcher: CiWatcher | undefined;
  // Probot's `run` adds a SIGINT handler that stops only its server and exits at once, which
  // would cut the reporter's, dispatcher's and queues' shutdown short on Ctrl-C: ours replaces it.
  const sigintBefore = new Set(process.listeners("SIGINT"));
  const started = run(
    ops.wrap(
      createApp(deps, (app) => {
        const opsRepo = env.CCC_OPS_REPO ? opsRepoResolver(app, env.CCC_OPS_REPO) : undefined;
        // Set before any delivery: the handlers read it when checking `/claude pause|resume|stop`.
        if (opsRepo)
          deps.opsRepo = async () => {
            const found = await opsRepo();
            return { owner: found.owner, repo: found.repo, octokit: await app.auth(found.installationId) };
          };
        // Self-hosted runner mode (docs/self-hosted-runners.md); idle when no repository uses it.
        dispatcher = new Dispatcher({
          redis,
          prefix: env.CCC_PREFIX,
          store,
          queues: deps.queues,
          events: deps.events,
          getOctokit: (installationId) => app.auth(installationId),
          log: log.child({ component: "dispatcher" }),
          configCacheSeconds: env.CCC_CONFIG_CACHE_SECONDS,
        });
        dispatcher.start();
        const runnerDispatcher = dispatcher;
        deps.dispatchNow = () => runnerDispatcher.nudge();
        // Blocked tasks' blockers are read with their own installation's client.
        const getOctokit = (installationId: number) => app.auth(installationId);
        deps.getOctokit = getOctokit;
        const dependencies = { ...deps, getOctokit, log: log.child({ component: "dependencies" }) };
        reconciler = new Reconciler({
          ...deps,
          log: log.child({ component: "reconciler" }),
          intervalMs: env.CCC_RECONCILE_SECONDS * 1000,
          blocked: {
            check: (task) => checkBlockedTask(dependencies, task),
            requeue: (task) => requeueHeldJob(dependencies, task),
            everyMs: env.CCC_DEPENDENCY_CHECK_SECONDS * 1000,
          },
        });
        reconciler.start();
        // Red checks on the cluster's pull requests become CI-fix tasks (src/app/ci).
        ciWatcher = new CiWatcher({
          ...deps,
          log: log.child({ component: "ci-watch" }),
          getOctokit: (installationId) => app.auth(installationId),
          ciSettleMs: env.CCC_CI_SETTLE_SECONDS * 1000,
        });
        ciWatcher.start();
        if (env.CCC_REPORTER === "off") return;
        reporter = new Reporter({
          connection: redis,
          prefix: env.CCC_PREFIX,
          store,
          getOctokit: (installationId) => app.auth(installationId),
          log: log.child({ component: "reporter" }),
          githubRetryBaseMs: env.CCC_GITHUB_RETRY_BASE_MS,
          githubRetryMaxMs: env.CCC_GITHUB_RETRY_MAX_MS,
          ...(opsRepo ? { opsRepo } : {}),
          ciWatch: deps.ciWatch,
          ciSettleMs: env.CCC_CI_SETTLE_SECONDS * 1000,
        });
        reporter.start();
      }),
    ),
    // Probot reads its settings from this copy. Without REDIS_URL in it, Probot throttles
    // GitHub requests in process instead of through Bottleneck on Redis, whose keys expire
    // after two idle minutes and never recover on Redis 7 (docs/gotchas.md).
    { ...ops.runOptions, env: { ...settings, REDIS_URL: undefined } },
  );
  // Probot's loader has just copied `.env` over process.env; the shell's values win again.
  Object.assign(process.env, settings);
  // With WEBHOOK_PROXY_URL set, Probot's server also connects smee-client to the channel.
  const server = await started.catch((error: unknown) => {
    throw explainListenFailure(explainWebhookProxyFailure(error, settings.WEBHOOK_PROXY_URL), settings);
  });

  const shutdown = async (signal: string) => {
    log.info({ signal }, "shutting down");
    await server.stop().catch(() => {});
    ops.stop();
    await reconciler?.close();
    await ciWatcher?.close();
    await reporter?.close();
    await dispatcher?.close();
    await deps.queues.close();
    await deps.events.close();
    await deps.ciWatch?.close();
    // The last spans, a few seconds at most: a collector that hangs does not hold up the exit.
    await tracing.shutdown();
    redis.disconnect();
    log.info({ signal }, "stopped");
    process.exit(0);
  };
  for (const listener of process.listeners("SIGINT")) if (!sigintBefore.has(listener)) process.off("SIGINT", listener);
  process.once("SIGTERM", (s) => void shutdown(s));
  process.once("SIGINT", (s) => void shutdown(s));
}

main().catch((error: unknown) => {
  const log = createLogger({ name: "ccc-app" });
  // A known start-up error names the fix in one line; a stack trace would bury it. Anything else is a bug.
  if (error instanceof UserFacingError) log.fatal(error.userMessage);
  else log.fatal({ err: error }, "the app could not start");
  process.exit(1);
});
