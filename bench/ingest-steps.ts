import { randomUUID } from "node:crypto";
import { ProbotOctokit } from "probot";
import { loadRepoConfig } from "../src/github/load-repo-config.js";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { repoRole } from "../src/github/permission.js";
import { DEFAULT_REPO_CONFIG } from "../src/config/repo-config.js";
import type { TaskData } from "../src/queue/task-data.js";
import { claimTask, type TaskDraft } from "../src/queue/task-factory.js";
import { taskJobId, taskQueueName } from "../src/queue/task-queues.js";
import type { IssueContext } from "../src/app/issue-context.js";
import { readLabelDelivery } from "../src/app/read-label-delivery.js";
import { classify } from "../src/router/classify.js";
import { formatTaskId } from "../src/shared/task-id.js";
import { branchName } from "../src/workspace/branch-name.js";
import { percentile } from "./stats.js";

export interface StepTiming {
  step: string;
  /** What the step sends to Redis. */
  redis: string;
  p50Ms: number;
  meanMs: number;
}

/**
 * The steps of handleLabeled → enqueueTask called directly, one after another, on the same
 * deps and caches as the HTTP bench: where an answer's time goes once Probot hands over.
 * Mirrors the handler's order; the HTTP bench is what measures the real thing.
 */
export async function timeIngestSteps(
  deps: IntakeDeps,
  target: { owner: string; repo: string; sender: string; baseUrl: string; firstIssue: number; count: number },
): Promise<StepTiming[]> {
  const octokit = new ProbotOctokit({ baseUrl: target.baseUrl });
  const lookup = { octokit, redis: deps.redis, prefix: deps.prefix, owner: target.owner, repo: target.repo };
  const title = "Add a changelog entry";
  const body = "Please add a CHANGELOG entry for the new release.";
  const totals = new Map<string, { redis: string; samples: number[] }>();
  const time = async <T>(step: string, redis: string, fn: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const value = await fn();
    const entry = totals.get(step) ?? { redis, samples: [] };
    entry.samples.push(performance.now() - t0);
    totals.set(step, entry);
    return value;
  };

  for (let i = 0; i < target.count; i++) {
    const number = target.firstIssue + i;
    const taskId = formatTaskId({ owner: target.owner, repo: target.repo, number });
    const ctx = { owner: target.owner, repo: target.repo, actor: target.sender, deliveryId: randomUUID(), issue: { number } } as IssueContext;
    const state = await time("readLabelDelivery", "EVALSHA (GET, SET NX, GET, HGETALL)", () => readLabelDelivery(deps, ctx));
    await time("loadRepoConfig (read above)", "-", () => loadRepoConfig({ ...lookup, cacheSeconds: deps.configCacheSeconds, cached: state.configText }));
    await time("repoRole (read above)", "-", () =>
      repoRole({ ...lookup, cacheSeconds: deps.permissionCacheSeconds, username: target.sender, cached: state.cachedRole }),
    );
    const existing = state.existing();
    const live = await time("registry.liveSpecialties", "ZRANGE, MGET (the app caches it 1 s)", () => deps.registry.liveSpecialties());
    const classification = await time("classify", "-", () => classify({ title, body, labels: ["claude"] }, DEFAULT_REPO_CONFIG, live));
    const now = Date.now();
    const branch = branchName(number, title);
    const queue = taskQueueName(classification.specialty);
    const draft: TaskDraft = {
      taskId,
      repo: { owner: target.owner, name: target.repo, cloneUrl: `https://github.com/${target.owner}/${target.repo}.git`, defaultBranch: "main" },
      installationId: 4242,
      issue: { number, title, body, url: `https://github.com/${target.owner}/${target.repo}/issues/${number}`, author: target.sender },
      comments: [],
      specialty: classification.specialty,
      priority: classification.priority,
      reason: classification.reason,
      trigger: { kind: "label", actor: target.sender, deliveryId: randomUUID() },
      branch,
      settings: {
        maxTurns: DEFAULT_REPO_CONFIG.maxTurns,
        timeoutMinutes: DEFAULT_REPO_CONFIG.timeoutMinutes,
        allowedTools: DEFAULT_REPO_CONFIG.allowedTools,
        permissionMode: DEFAULT_REPO_CONFIG.permissionMode,
        draftPullRequest: false,
      },
      createdAt: now,
    };
    const nextRun = (existing?.run ?? 0) + 1;
    const probe = { run: nextRun, key: deps.queues.jobKey(queue, taskJobId(taskId, nextRun)) };
    const claim = await time("store.claim", "EVALSHA (probes the job id)", () => claimTask(deps.store, draft, queue, undefined, probe));
    const data: TaskData = claim.created ? claim.task : { ...draft, run: claim.run };
    const noLeftover = claim.created && claim.probed === false;
    await time("queues.add (BullMQ)", "EVALSHA", () => deps.queues.add(data, undefined, { noLeftover }));
    await time("events.emit (zod + BullMQ)", "EVALSHA", () => deps.events.emit({ type: "task-changed", taskId }));
  }
  return [...totals].map(([step, { redis, samples }]) => ({
    step,
    redis,
    p50Ms: percentile(samples, 50),
    meanMs: samples.reduce((sum, v) => sum + v, 0) / samples.length,
  }));
}
