import type { RepoConfig } from "../config/repo-config.js";
import type { Command } from "../commands/parse-command.js";
import { servedSpecialties } from "../dispatcher/served-specialties.js";
import { fetchCommentsUpTo } from "../github/fetch-comments.js";
import { fetchReviewFeedback } from "../github/fetch-review-feedback.js";
import type { GitHubClient } from "../github/github-client.js";
import { httpStatus } from "../github/github-errors.js";
import type { CiFix, ConflictFix, PullRequestFeedback } from "../queue/task-data.js";
import type { TaskDraft } from "../queue/task-factory.js";
import type { TaskRecord } from "../queue/task-record.js";
import { formatTaskId } from "../shared/task-id.js";
import { LIVE_STATES, type TaskState } from "../shared/task-state.js";
import { classifyRecorded, inActionsMode, outcomeAttributes, queueDraft, taskSettings, type EnqueueOutcome } from "./enqueue-task.js";
import { runSpanOptions } from "./run-span-options.js";
import { withSpan } from "../telemetry/tracer.js";
import { SpanKind } from "@opentelemetry/api";
import type { IntakeDeps } from "./intake-deps.js";
import type { IssueContext } from "./issue-context.js";
import { traceField } from "../telemetry/trace-carrier.js";

/** What the handlers need of a pull request, read fresh from GitHub (`pulls.get`). */
export interface PullRequestInfo {
  number: number;
  title: string;
  body: string;
  url: string;
  author: string;
  headBranch: string;
  baseBranch: string;
  /** `owner/name` of the head's repository; undefined when the fork was deleted. */
  headRepo: string | undefined;
  baseRepo: string;
  state: "open" | "closed";
  merged: boolean;
  /** The head commit: checks are judged on it alone. */
  headSha: string;
  /** Whether GitHub can merge it into its base: null while GitHub is still computing it. */
  mergeable: boolean | null;
  /** GitHub's word on it: `dirty` is a conflict, `clean`, `blocked`, `behind`, `unstable`, `unknown`, … */
  mergeableState: string;
  /** The base repository's clone URL and default branch, for a task the app starts by itself. */
  cloneUrl?: string;
  defaultBranch?: string;
}

export async function fetchPullRequest(ctx: IssueContext): Promise<PullRequestInfo> {
  return readPullRequest(ctx.octokit, { owner: ctx.owner, repo: ctx.repo, number: ctx.issue.number });
}

/** A pull request as the handlers need it (REST `pulls.get`). */
export async function readPullRequest(octokit: GitHubClient, ref: { owner: string; repo: string; number: number }): Promise<PullRequestInfo> {
  const { data } = await octokit.rest.pulls.get({ owner: ref.owner, repo: ref.repo, pull_number: ref.number });
  return {
    number: data.number,
    title: data.title,
    body: data.body ?? "",
    url: data.html_url,
    author: data.user?.login ?? "ghost",
    headBranch: data.head.ref,
    baseBranch: data.base.ref,
    headRepo: data.head.repo?.full_name ?? undefined,
    baseRepo: data.base.repo?.full_name ?? `${ref.owner}/${ref.repo}`,
    state: data.state === "closed" ? "closed" : "open",
    merged: data.merged === true || data.merged_at != null,
    headSha: data.head.sha,
    mergeable: data.mergeable ?? null,
    mergeableState: data.mergeable_state ?? "unknown",
    ...(data.base.repo?.clone_url ? { cloneUrl: data.base.repo.clone_url } : {}),
    ...(data.base.repo?.default_branch ? { defaultBranch: data.base.repo.default_branch } : {}),
  };
}

/** Why Claude must not run on this pull request, as the reply says it; undefined when it may. */
export function pullRequestRefusal(pr: PullRequestInfo): string | undefined {
  if (pr.headRepo === undefined || pr.headRepo.toLowerCase() !== pr.baseRepo.toLowerCase()) {
    return (
      ":no_entry: Claude does not run on pull requests from forks: the agent would run code from someone else's repository on its owner's machine, " +
      "with its owner's credentials, and push to a branch this repository does not control. Push the branch to this repository and open the pull request from there. Nothing was queued."
    );
  }
  if (pr.merged) return "This pull request is merged: Claude only works on open pull requests. Open a new pull request, or an issue. Nothing was queued.";
  if (pr.state === "closed") return "This pull request is closed: reopen it to have Claude work on it. Nothing was queued.";
  return undefined;
}

export interface PullRequestEnqueueRequest {
  ctx: IssueContext;
  config: RepoConfig;
  pr: PullRequestInfo;
  /** `checks`: the app itself, for a red check on a commit the cluster pushed. */
  trigger: { kind: "comment"; commentId: number } | { kind: "review"; reviewId: number } | { kind: "checks" };
  /** The parsed command, its fields passed through as given. */
  command: Extract<Command, { name: "run" | "retry" | "fix-ci" }>;
  /** A CI-fix run: the failing checks Claude is to make green, instead of review feedback. */
  ciFix?: CiFix;
  /** A conflict run: the base branch to merge in, instead of review feedback. */
  conflict?: ConflictFix;
}

export type PullRequestEnqueueOutcome =
  | EnqueueOutcome
  /** The linked issue's own task is live on the same branch: two runs must not share it. */
  | { status: "issue-task-live"; issueNumber: number; state: TaskState }
  /** The specialty runs on self-hosted runners, which do not take pull request tasks yet. */
  | { status: "actions-mode"; specialty: string }
  | { status: "no-earlier-task" };

/**
 * Puts one task on the queue that runs Claude on the pull request's head branch, with the
 * review feedback since the PR's last run, the linked issue and the command's instructions.
 * The caller has checked the actor, the repo config and `pullRequestRefusal`.
 */
export async function enqueuePullRequestTask(deps: IntakeDeps, request: PullRequestEnqueueRequest): Promise<PullRequestEnqueueOutcome> {
  const { ctx, pr, command } = request;
  const taskId = formatTaskId({ owner: ctx.owner, repo: ctx.repo, number: pr.number });
  const [previous, live] = await Promise.all([deps.store.get(taskId), deps.liveSpecialties()]);
  if (previous && LIVE_STATES.includes(previous.state)) return { status: "already-live", taskId, state: previous.state };
  if (command.name === "retry" && !previous) return { status: "no-earlier-task" };

  const linked = await findLinkedIssue(deps, ctx, pr);
  if (linked?.task && LIVE_STATES.includes(linked.task.state) && linked.task.branch === pr.headBranch) {
    return { status: "issue-task-live", issueNumber: linked.number, state: linked.task.state };
  }
  const attributes = { "ccc.task.id": taskId, "github.issue.number": pr.number, "ccc.trigger": request.trigger.kind, "ccc.command": command.name };
  const spanOptions = { kind: SpanKind.PRODUCER, attributes, ...runSpanOptions(previous?.trace, linked?.task?.trace) };
  return withSpan("enqueue pull request task", spanOptions, async (span) => {
    const outcome = await classifyAndQueue(deps, request, { taskId, previous, live, linked });
    span.setAttributes({
      ...outcomeAttributes(outcome),
      ...(request.ciFix ? { "ccc.ci_fix.attempt": request.ciFix.attempt } : {}),
      ...(request.conflict ? { "ccc.conflict.attempt": request.conflict.attempt } : {}),
    });
    return outcome;
  });
}

interface Known {
  taskId: string;
  previous: TaskRecord | undefined;
  live: Set<string>;
  linked: LinkedIssue | undefined;
}

async function classifyAndQueue(deps: IntakeDeps, request: PullRequestEnqueueRequest, known: Known): Promise<PullRequestEnqueueOutcome> {
  const { ctx, config, pr, command } = request;
  const { taskId, previous, live, linked } = known;
  // The PR continues its issue's work: the same specialty, unless a retry repeats this PR's own.
  const specialty =
    command.name === "retry" ? previous?.specialty : command.name === "fix-ci" ? (linked?.task?.specialty ?? previous?.specialty) : linked?.task?.specialty;
  const priority = command.name === "run" ? (command.priority ?? previous?.priority) : previous?.priority;
  const hint = { ...(specialty ? { specialty } : {}), ...(priority ? { priority } : {}) };
  const classification = classifyRecorded({ title: pr.title, body: pr.body, labels: ctx.issue.labels }, config, servedSpecialties(config, live), hint);
  if (inActionsMode(config, classification.specialty)) return { status: "actions-mode", specialty: classification.specialty };

  const since = feedbackSince(previous);
  // A CI fix or a conflict run is about the checks or the base: review feedback waits for the next `/claude run`.
  const [feedback, comments] =
    request.ciFix || request.conflict
      ? [NO_FEEDBACK, []]
      : await Promise.all([
          fetchReviewFeedback(ctx.octokit, {
            owner: ctx.owner,
            repo: ctx.repo,
            pullNumber: pr.number,
            ...(since !== undefined ? { since } : {}),
            ...(request.trigger.kind === "review" ? { reviewId: request.trigger.reviewId } : {}),
          }),
          fetchCommentsUpTo(ctx.octokit, {
            owner: ctx.owner,
            repo: ctx.repo,
            issueNumber: pr.number,
            ...(request.trigger.kind === "comment" ? { untilCommentId: request.trigger.commentId } : {}),
          }),
        ]);
  // The conversation too is this run's since `since`: earlier commands were earlier runs' work.
  const newComments = since === undefined ? comments : comments.filter((comment) => Date.parse(comment.createdAt) > since);
  const now = (deps.now ?? Date.now)();
  const draft: TaskDraft = {
    taskId,
    repo: { owner: ctx.owner, name: ctx.repo, cloneUrl: ctx.cloneUrl, defaultBranch: ctx.defaultBranch },
    installationId: ctx.installationId,
    issue: { number: pr.number, title: pr.title, body: pr.body, url: pr.url, author: pr.author },
    comments: newComments,
    specialty: classification.specialty,
    priority: classification.priority,
    reason: linked?.task && specialty === linked.task.specialty ? `the specialty of issue #${linked.number}'s task` : classification.reason,
    trigger: { kind: request.trigger.kind, actor: ctx.actor, deliveryId: ctx.deliveryId },
    branch: pr.headBranch,
    settings: taskSettings(config, classification.specialty),
    createdAt: now,
    ...traceField(),
    ...(command.name === "run" && command.notBefore !== undefined && command.notBefore > now ? { notBefore: command.notBefore } : {}),
    pullRequest: { number: pr.number, headBranch: pr.headBranch, baseBranch: pr.baseBranch, ...(since !== undefined ? { feedbackSince: since } : {}) },
    ...(command.instructions ? { instructions: command.instructions } : {}),
    feedback: { ...feedback, ...(linked?.issue ? { linkedIssue: linked.issue } : {}) },
    ...(request.ciFix ? { ciFix: request.ciFix } : {}),
    ...(request.conflict ? { conflict: request.conflict } : {}),
  };
  return queueDraft(deps, draft, config);
}

/**
 * Where this run's feedback starts: after the start of the PR's last run that finished its
 * work (pushed, or answered), since that run saw everything before. A failed or cancelled run
 * saw nothing through: its own window carries over. No earlier run: all feedback.
 */
function feedbackSince(previous: TaskRecord | undefined): number | undefined {
  if (!previous) return undefined;
  // A CI fix read no review feedback: what was new before it is new still.
  if (previous.ciFix || previous.conflict) return previous.pullRequest?.feedbackSince;
  if (previous.state === "pr-open" || previous.state === "no-changes") return previous.startedAt ?? previous.queuedAt;
  return previous.pullRequest?.feedbackSince;
}

const NO_FEEDBACK: Omit<PullRequestFeedback, "linkedIssue"> = { reviews: [], threads: [], omitted: { reviews: 0, threads: 0, replies: 0 } };

interface LinkedIssue {
  number: number;
  /** The cluster's task on the issue, if it has one. */
  task?: TaskRecord;
  /** Its title and body for the prompt; absent when GitHub has no such issue. */
  issue?: NonNullable<PullRequestFeedback["linkedIssue"]>;
}

/** `claude/issue-<n>-…`: the branch name the cluster gives an issue's work (branch-name.ts). */
const CLUSTER_BRANCH = /^claude\/issue-(\d+)-/;
/** GitHub's closing keywords: `Closes #12`, `fixes #12`, `Resolved #12`. */
const CLOSES = /\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+#(\d+)\b/i;

/**
 * The issue this pull request works for: the one whose cluster task opened it (its task's
 * `prNumber` is this PR), else the first issue its body closes.
 */
async function findLinkedIssue(deps: IntakeDeps, ctx: IssueContext, pr: PullRequestInfo): Promise<LinkedIssue | undefined> {
  const taskOf = (number: number) => deps.store.get(formatTaskId({ owner: ctx.owner, repo: ctx.repo, number }));
  let number: number | undefined;
  let task: TaskRecord | undefined;
  const fromBranch = CLUSTER_BRANCH.exec(pr.headBranch);
  if (fromBranch) {
    const candidate = await taskOf(Number(fromBranch[1]));
    if (candidate?.prNumber === pr.number && !candidate.pullRequest) [number, task] = [Number(fromBranch[1]), candidate];
  }
  if (number === undefined) {
    const closes = CLOSES.exec(pr.body);
    if (!closes || Number(closes[1]) === pr.number) return undefined;
    number = Number(closes[1]);
    const candidate = await taskOf(number);
    if (candidate && !candidate.pullRequest) task = candidate;
  }
  try {
    const { data } = await ctx.octokit.rest.issues.get({ owner: ctx.owner, repo: ctx.repo, issue_number: number });
    // `#n` may name another pull request: not an issue to work for.
    if (data.pull_request) return task ? { number, task } : undefined;
    return { number, ...(task ? { task } : {}), issue: { number, title: data.title, body: data.body ?? "" } };
  } catch (error) {
    if (httpStatus(error) !== 404 && httpStatus(error) !== 410) throw error;
    return task ? { number, task } : undefined;
  }
}
