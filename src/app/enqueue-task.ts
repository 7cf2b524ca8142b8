import { SpanKind, trace, type Attributes } from "@opentelemetry/api";
import type { RepoConfig } from "../config/repo-config.js";
import { ACTIONS_QUEUE, addActionsTask } from "../dispatcher/actions-queue.js";
import { servedSpecialties } from "../dispatcher/served-specialties.js";
import { taskMode } from "../dispatcher/task-mode.js";
import { claimTask, type TaskDraft } from "../queue/task-factory.js";
import { taskJobId, taskQueueName } from "../queue/task-queues.js";
import { classify } from "../router/classify.js";
import type { TaskRecord } from "../queue/task-record.js";
import type { Priority } from "../shared/priority.js";
import { formatTaskId } from "../shared/task-id.js";
import { LIVE_STATES } from "../shared/task-state.js";
import { traceField } from "../telemetry/trace-carrier.js";
import { runSpanOptions } from "./run-span-options.js";
import { withSpan } from "../telemetry/tracer.js";
import { branchName } from "../workspace/branch-name.js";
import { fetchCommentsUpTo } from "../github/fetch-comments.js";
import { judgeIssue } from "./check-dependencies.js";
import { holdDraft, type HoldOutcome } from "./hold-draft.js";
import type { IntakeDeps } from "./intake-deps.js";
import type { IssueContext } from "./issue-context.js";

export interface EnqueueRequest {
  ctx: IssueContext;
  config: RepoConfig;
  trigger: { kind: "label" } | { kind: "comment"; commentId: number };
  hint?: { specialty?: string; priority?: Priority };
  /** Epoch ms before which no agent starts the task (`/claude run at …` / `in …`). */
  notBefore?: number;
  /** `/claude run --force`: queue it even though open issues block it. */
  force?: boolean;
  /** The issue's task record, when the caller read it already (undefined: none); read here when the key is absent. */
  existing?: TaskRecord | undefined;
}

export type EnqueueOutcome =
  | { status: "queued"; taskId: string; specialty: string; priority: Priority; run: number }
  | { status: "already-live"; taskId: string; state: string }
  | HoldOutcome;

/** The answer to a trigger on an issue whose task is live: nothing new, and for a blocked one the way to start it. */
export function alreadyLiveReply(state: string): string {
  const force = state === "blocked" ? " It waits for the issues it depends on: `/claude run --force` starts it now." : "";
  return `Claude is already on this issue (${state}); nothing new was queued.${force}`;
}

/**
 * Classifies the issue and puts one task on its specialty's queue, unless the issue already
 * has a live task, or holds it `blocked` while issues it depends on are open (unless forced).
 * Reads from GitHub only what the prompt and the dependencies need; writes nothing there.
 */
export async function enqueueTask(deps: IntakeDeps, request: EnqueueRequest): Promise<EnqueueOutcome> {
  const { ctx } = request;
  const taskId = formatTaskId({ owner: ctx.owner, repo: ctx.repo, number: ctx.issue.number });
  const [existing, live] = await Promise.all(["existing" in request ? request.existing : deps.store.get(taskId), deps.liveSpecialties()]);
  if (existing && LIVE_STATES.includes(existing.state)) {
    return { status: "already-live", taskId, state: existing.state };
  }
  // Claude working on the issue's pull request works on the issue's branch: one run at a time.
  if (existing?.prNumber !== undefined && !existing.pullRequest) {
    const prTask = await deps.store.get(formatTaskId({ owner: ctx.owner, repo: ctx.repo, number: existing.prNumber }));
    if (prTask && LIVE_STATES.includes(prTask.state) && prTask.branch === existing.branch) {
      return { status: "already-live", taskId: prTask.taskId, state: `${prTask.state} on its pull request #${existing.prNumber}` };
    }
  }

  const attributes = { "ccc.task.id": taskId, "github.issue.number": ctx.issue.number, "ccc.trigger": request.trigger.kind };
  return withSpan("enqueue task", { kind: SpanKind.PRODUCER, attributes, ...runSpanOptions(existing?.trace) }, async (span) => {
    const outcome = await classifyAndQueue(deps, request, taskId, live, (existing?.run ?? 0) + 1);
    span.setAttributes(outcomeAttributes(outcome));
    return outcome;
  });
}

/** What became of an enqueue, for its span: ids, names and numbers. */
export function outcomeAttributes(outcome: { status: string } | EnqueueOutcome): Attributes {
  const queued = "run" in outcome && outcome.status === "queued" ? outcome : undefined;
  return {
    "ccc.outcome": outcome.status,
    ...(queued ? { "ccc.specialty": queued.specialty, "ccc.priority": queued.priority, "ccc.task.run": queued.run } : {}),
  };
}

/**
 * The issue's classification, recorded on the active (enqueue) span: its outcome only, never
 * the reason, which may quote the issue. A pure function of microseconds gets no span of its
 * own: one span fewer per delivery is a third of what tracing costs a webhook.
 */
export function classifyRecorded(...input: Parameters<typeof classify>): ReturnType<typeof classify> {
  const classification = classify(...input);
  trace.getActiveSpan()?.setAttributes({ "ccc.specialty": classification.specialty, "ccc.priority": classification.priority });
  return classification;
}

async function classifyAndQueue(
  deps: IntakeDeps,
  request: EnqueueRequest,
  taskId: string,
  live: ReadonlySet<string>,
  nextRun: number,
): Promise<EnqueueOutcome> {
  const { ctx, config } = request;
  const classification = classifyRecorded(
    { title: ctx.issue.title, body: ctx.issue.body, labels: ctx.issue.labels },
    config,
    servedSpecialties(config, live),
    request.hint,
  );
  const comments =
    ctx.issue.comments > 0 || request.trigger.kind === "comment"
      ? await fetchCommentsUpTo(ctx.octokit, {
          owner: ctx.owner,
          repo: ctx.repo,
          issueNumber: ctx.issue.number,
          ...(request.trigger.kind === "comment" ? { untilCommentId: request.trigger.commentId } : {}),
        })
      : [];
  const now = (deps.now ?? Date.now)();
  const draft: TaskDraft = {
    taskId,
    repo: { owner: ctx.owner, name: ctx.repo, cloneUrl: ctx.cloneUrl, defaultBranch: ctx.defaultBranch },
    installationId: ctx.installationId,
    issue: {
      number: ctx.issue.number,
      title: ctx.issue.title,
      body: ctx.issue.body ?? "",
      url: ctx.issue.url,
      author: ctx.issue.author,
    },
    comments,
    specialty: classification.specialty,
    priority: classification.priority,
    reason: classification.reason,
    trigger: { kind: request.trigger.kind, actor: ctx.actor, deliveryId: ctx.deliveryId },
    branch: branchName(ctx.issue.number, ctx.issue.title),
    settings: taskSettings(config, classification.specialty),
    createdAt: now,
    ...traceField(),
    ...(request.notBefore !== undefined && request.notBefore > now ? { notBefore: request.notBefore } : {}),
  };
  if (!request.force) {
    const issue = { owner: ctx.owner, repo: ctx.repo, number: ctx.issue.number, body: ctx.issue.body ?? "", dependencySummary: ctx.issue.dependencySummary };
    const verdict = await judgeIssue(deps.store, ctx.octokit, issue);
    if (verdict.kind !== "clear") return holdDraft(deps, draft, draftQueue(config, draft.specialty), verdict);
  }
  return queueDraft(deps, draft, config, nextRun);
}

/** What the repository's config says about a task of `specialty`. */
export function taskSettings(config: RepoConfig, specialty: string): TaskDraft["settings"] {
  return {
    ...(config.model ? { model: config.model } : {}),
    maxTurns: config.maxTurns,
    timeoutMinutes: config.timeoutMinutes,
    allowedTools: config.allowedTools,
    permissionMode: config.permissionMode,
    draftPullRequest: config.draftPullRequests,
    ...(config.roles[specialty] ? { role: config.roles[specialty] } : {}),
    // Absent unless set: an agent older than these fields would drop them and refuse the signature.
    ...(config.test ? { test: config.test } : {}),
    ...(config.merge === "auto" ? { autoMerge: config.mergeMethod } : {}),
  };
}

/** Whether the specialty's tasks go to the self-hosted runners' queue (src/dispatcher) instead of agents. */
export function inActionsMode(config: RepoConfig, specialty: string): boolean {
  return taskMode(config, specialty) === "actions";
}

/** The queue a task of `specialty` goes on: its specialty's, or in runner mode the one only the dispatcher reads. */
function draftQueue(config: RepoConfig, specialty: string): string {
  return inActionsMode(config, specialty) ? ACTIONS_QUEUE : taskQueueName(specialty);
}

/**
 * Claims the draft's new run and puts its job on the specialty's queue. `nextRun`: the run the
 * claim should create, as the record read earlier says; the claim then checks in its own step
 * that no job left from an expired record holds that run's id, which spares a round trip.
 */
export async function queueDraft(deps: IntakeDeps, draft: TaskDraft, config: RepoConfig, nextRun?: number): Promise<EnqueueOutcome> {
  const { taskId } = draft;
  const now = draft.createdAt;
  // Self-hosted runner mode: a queue only the dispatcher reads (src/dispatcher).
  const actionsMode = inActionsMode(config, draft.specialty);
  const queue = draftQueue(config, draft.specialty);
  const probe = nextRun !== undefined && !actionsMode ? { run: nextRun, key: deps.queues.jobKey(queue, taskJobId(taskId, nextRun)) } : undefined;
  const claim = await claimTask(deps.store, draft, queue, undefined, probe);
  if (!claim.created) {
    // Another delivery won the race between our read and the claim.
    return { status: "already-live", taskId, state: "queued" };
  }
  const data = claim.task;
  trace.getActiveSpan()?.setAttributes({
    "messaging.system": "bullmq",
    "messaging.operation.type": "send",
    "messaging.destination.name": queue,
    "messaging.message.id": `${taskId}@${data.run}`,
  });
  try {
    await (actionsMode ? addActionsTask(deps.queues, data) : deps.queues.add(data, undefined, { noLeftover: claim.probed === false }));
  } catch (error) {
    // Never leave a claim without a job: it would answer "already queued" forever.
    await deps.store.update(taskId, {
      state: "failed",
      failure: { kind: "unknown", message: `could not queue the task: ${(error as Error).message}` },
      finishedAt: now,
    });
    throw error;
  }
  await deps.events.emit({ type: "task-changed", taskId });
  return { status: "queued", taskId, specialty: draft.specialty, priority: draft.priority, run: data.run };
}
