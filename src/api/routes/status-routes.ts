import { knownQueues } from "../../ops/known-queues.js";
import { queueDepths } from "../../ops/queue-depths.js";
import { taskCensus } from "../../ops/task-census.js";
import type { ApiDeps } from "../api-deps.js";
import type { Route } from "../http-routes.js";

/** GitHub is asked at most this often by /ready; a load balancer may probe every second. */
const GITHUB_CHECK_TTL_MS = 30_000;

/** Liveness, readiness, queues and agents. */
export function statusRoutes(deps: ApiDeps): Route[] {
  const now = deps.now ?? Date.now;
  let github: { at: number; ok: boolean; error?: string } | undefined;
  const checkGitHub = async () => {
    if (!github || now() - github.at > GITHUB_CHECK_TTL_MS) {
      try {
        await deps.checkGitHub();
        github = { at: now(), ok: true };
      } catch (error) {
        github = { at: now(), ok: false, error: (error as Error).message.split("\n")[0] ?? "unknown" };
      }
    }
    return github;
  };

  return [
    { method: "GET", path: "/api/v1/health", public: true, handle: () => ({ status: "ok" }) },
    {
      method: "GET",
      path: "/api/v1/ready",
      public: true,
      handle: async ({ res }) => {
        const redis = await deps.redis.ping().then(
          () => ({ ok: true }),
          (error: Error) => ({ ok: false, error: error.message }),
        );
        const gh = await checkGitHub();
        const ready = redis.ok && gh.ok;
        res.writeHead(ready ? 200 : 503, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
        res.end(JSON.stringify({ status: ready ? "ready" : "not-ready", redis, github: { ok: gh.ok, ...(gh.error ? { error: gh.error } : {}) } }));
        return undefined;
      },
    },
    {
      method: "GET",
      path: "/api/v1/queues",
      handle: async () => {
        // The recent tasks' queue names (a few fields each, not their records): the dashboard asks every 3 s.
        const [agents, tasks] = await Promise.all([deps.registry.list(), taskCensus(deps.redis, deps.prefix, 500)]);
        return { queues: await queueDepths(deps.queues, knownQueues(agents, new Set(tasks.map((t) => t.queue)))) };
      },
    },
    { method: "GET", path: "/api/v1/agents", handle: async () => ({ agents: await deps.registry.list() }) },
  ];
}
