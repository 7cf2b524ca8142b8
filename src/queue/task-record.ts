import { z } from "zod";
import { mergeMethodSchema, type MergeMethod } from "../config/merge-method.js";
import { prioritySchema, type Priority } from "../shared/priority.js";
import { taskStateSchema, type TaskState } from "../shared/task-state.js";
import { pullRequestSchema, type PullRequestRef } from "./task-data.js";
import { traceCarrierSchema, type TraceCarrier } from "../telemetry/trace-carrier-schema.js";

/** Why a run did not end in a pull request. `kind` decides retry and what the issue shows. */
export interface TaskFailure {
  kind:
    | "usage-limit"
    | "session-expired"
    | "max-turns"
    | "network"
    | "invalid-request"
    | "timeout"
    | "cancelled"
    | "crash"
    | "push"
    /** The issue's blockers wait for it in turn: the message (the app's own words) names the cycle. */
    | "dependency-cycle"
    | "unknown";
  message: string;
}

/** Live progress of a running task, as the agent last reported it. */
export interface TaskProgress {
  turns: number;
  /** Tool Claude is using now, e.g. `Edit src/a.ts`. */
  currentTool?: string;
  updatedAt: number;
}

/** What Claude's final `result` line said. */
export interface TaskResult {
  summary: string;
  costUsd: number;
  turns: number;
  durationMs: number;
  /** Commits the run added on the branch. */
  commits: number;
}

/**
 * The repository's test command as the agent last ran it before the push (`passed`, `failed`),
 * or why it did not run: none configured, the agent's owner refuses repository commands
 * (`--test-commands refuse`), or a self-hosted runner, which does not run them.
 */
export type TaskTests =
  | {
      status: "passed" | "failed";
      command: string;
      /** Null when it was killed (a timeout) or could not start. */
      exitCode: number | null;
      timedOut: boolean;
      /** The last lines of its output, ANSI codes stripped, secrets redacted, capped. */
      output: string;
      durationMs: number;
      /** How many times Claude was given the failing output to fix, before this last run. */
      fixAttempts: number;
    }
  | { status: "none" }
  | { status: "refused"; command: string }
  | { status: "runner" };

/** What became of `merge: auto` on the task's pull request. */
export interface TaskAutoMerge {
  /** `enabled`: GitHub accepted it; `skipped`: the tests did not pass; `refused`: GitHub said no (`message`). */
  status: "enabled" | "skipped" | "refused";
  message?: string;
}

/** What a `blocked` task waits for, as the app last read it from GitHub. */
export interface TaskDependsOn {
  /** Open blockers, `owner/repo#n` as GitHub spells them. */
  open: string[];
  /** Blockers the app's installation cannot read (another repository, deleted): they hold the task too. */
  unreadable: string[];
  /** When the blockers were last read (epoch ms): the reconciler reads them again at a bounded rate. */
  checkedAt: number;
}

/** A Claude session a later attempt can continue, on the agent that keeps its worktree. */
export interface TaskSession {
  id: string;
  agent: string;
  /** The worktree the session worked in, on that agent. */
  dir: string;
  /** The run it last worked on. */
  run: number;
  /** When that run's task was built (epoch ms): Claude has seen the issue's comments up to then. */
  promptedAt: number;
}

/** A cluster pull request's CI and mergeability, as its tasks show them. */
export interface TaskPrCi {
  /** `pending`, `green`, `red`, `fixing` (a CI fix is queued or running), `gave-up`. */
  state: "pending" | "green" | "red" | "fixing" | "gave-up";
  /** The checks that failed last. */
  failing: string[];
  /** CI fixes since the checks were last green, of `maxAttempts`. */
  attempts: number;
  maxAttempts?: number;
  /** Whether it merges with its base: `conflict` when it does not, `resolving` while a conflict run is on it. */
  conflict?: "clean" | "conflict" | "resolving" | "gave-up";
  conflictAttempts?: number;
  conflictMaxAttempts?: number;
}

/** What the tracking comment says of a CI-fix run: "fixing CI: unit-tests, attempt 1 of 3". */
export interface TaskCiFix {
  attempt: number;
  maxAttempts: number;
  checks: string[];
}

/**
 * Everything known about a task, kept in Redis so that any app replica or agent can render
 * or advance it. The reporter renders the tracking comment from this record alone.
 */
export interface TaskRecord {
  taskId: string;
  owner: string;
  repo: string;
  issueNumber: number;
  installationId: number;
  title: string;
  run: number;
  state: TaskState;
  specialty: string;
  priority: Priority;
  reason: string;
  branch: string;
  /** Branch the pull request targets: the repository's default branch, or a PR task's PR base. */
  baseBranch: string;
  /** Queue the current run's job sits on, and its BullMQ id. */
  queue: string;
  jobId: string;
  draftPullRequest: boolean;
  queuedAt: number;
  /** A scheduled task: epoch ms before which no agent starts it. */
  notBefore?: number;
  agent?: string;
  /** The Claude account (`--account`) of the agent that claimed the current attempt. */
  account?: string;
  startedAt?: number;
  finishedAt?: number;
  attempt?: number;
  maxAttempts?: number;
  progress?: TaskProgress;
  result?: TaskResult;
  failure?: TaskFailure;
  /** What the task waits for while in state `waiting` (or, running, for its push to go through). */
  waitingFor?: string;
  /**
   * Why no agent can take the task now and who can unblock it, set by the app's reconciler
   * for queued and waiting tasks (and running ones whose agent stopped responding).
   */
  blockedBy?: string;
  /** Set while the task is `blocked`: the issues it waits for (docs/architecture.md, "Dependencies"). */
  dependsOn?: TaskDependsOn;
  /**
   * What the running agent's owner lowered or dropped from the repository's settings (its
   * `--max-permission-mode`, `--allowed-tools`, `--models`), one sentence each; cleared by the next claim.
   */
  capped?: string[];
  /**
   * The run that owns the task: set when an agent claims it, checked on each of that run's
   * writes, so a run that lost its lock (a sleeping PC) can no longer change the task.
   */
  lease?: string;
  /**
   * Claude's session of the task's last run that started one, from the CLI's `init` line: the
   * agent whose worktree (`dir`) holds its work, and when it started. Kept across runs, so a
   * `/claude retry` on that agent continues it with `--resume` (docs/operations.md, "Resumed sessions").
   */
  session?: TaskSession;
  /** The current attempt continues an earlier Claude session instead of starting over. */
  resumed?: boolean;
  /** The test command before the push (or why none ran), set by the agent with the run's result. */
  tests?: TaskTests;
  /** `merge: auto` in the repository's config: the method auto-merge is enabled with once the tests passed. */
  autoMerge?: MergeMethod;
  /** What the reporter's request for auto-merge came to, set with `pr-open`. */
  autoMergeOutcome?: TaskAutoMerge;
  prUrl?: string;
  prNumber?: number;
  /** The commit the run pushed (its branch's new head): red checks on it are the cluster's to fix. */
  pushedSha?: string;
  /** When the pull request was merged (GitHub's `merged_at`); set with the state `merged`. */
  mergedAt?: number;
  /** When the pull request was closed without merging (GitHub's `closed_at`); set with the state `closed`. */
  closedAt?: number;
  /**
   * Set for a task on a pull request (review feedback): `issueNumber` and `prNumber` are then
   * the PR's, `branch` its head, and the task never opens a pull request of its own.
   */
  pullRequest?: PullRequestRef;
  /** A CI-fix run on the pull request: which attempt, of how many, on which failing checks (their names). */
  ciFix?: TaskCiFix;
  /** A conflict run on the pull request: merging its base branch in, which attempt of how many. */
  conflict?: { attempt: number; maxAttempts: number; baseBranch: string; behind?: boolean };
  /** Where the pull request's checks and mergeability stand (`publishPullRequestCi`), for every view of the task. */
  prCi?: TaskPrCi;
  /** The trace id of the task's latest run (W3C, 32 hex), when tracing was on: views link to it. */
  traceId?: string;
  /** The latest run's trace carrier (its job data's `trace`): the next run of the task continues that trace. */
  trace?: TraceCarrier;
  /** The one tracking comment, once the reporter has created it. */
  commentId?: number;
  /** Bumped on every change; the reporter skips a render that would show nothing new. */
  version: number;
  renderedVersion?: number;
  lastEditAt?: number;
  /** Reporter bookkeeping: the state whose `claude:<state>` label the reporter last set. */
  labelState?: TaskState;
  /**
   * Reporter bookkeeping: set just before creating the tracking comment, cleared once its id
   * is stored. Still set on the next render means the create may have landed (a 502 after
   * GitHub wrote it), so the reporter looks for its marker before creating another.
   */
  commentCreateStartedAt?: number;
}

const taskFailureSchema = z.object({
  kind: z.enum([
    "usage-limit",
    "session-expired",
    "max-turns",
    "network",
    "invalid-request",
    "timeout",
    "cancelled",
    "crash",
    "push",
    "dependency-cycle",
    "unknown",
  ]),
  message: z.string(),
}) satisfies z.ZodType<TaskFailure>;

const taskTestsSchema = z.discriminatedUnion("status", [
  z.object({
    status: z.enum(["passed", "failed"]),
    command: z.string(),
    exitCode: z.number().nullable(),
    timedOut: z.boolean(),
    output: z.string(),
    durationMs: z.number(),
    fixAttempts: z.number(),
  }),
  z.object({ status: z.literal("none") }),
  z.object({ status: z.literal("refused"), command: z.string() }),
  z.object({ status: z.literal("runner") }),
]) satisfies z.ZodType<TaskTests>;

/** A task record as read back from its Redis hash (each field decoded from JSON). */
export const taskRecordSchema = z.object({
  taskId: z.string(),
  owner: z.string(),
  repo: z.string(),
  issueNumber: z.number(),
  installationId: z.number(),
  title: z.string(),
  run: z.number(),
  state: taskStateSchema,
  specialty: z.string(),
  priority: prioritySchema,
  reason: z.string(),
  branch: z.string(),
  baseBranch: z.string(),
  queue: z.string(),
  jobId: z.string(),
  draftPullRequest: z.boolean(),
  queuedAt: z.number(),
  notBefore: z.number().optional(),
  agent: z.string().optional(),
  account: z.string().optional(),
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  attempt: z.number().optional(),
  maxAttempts: z.number().optional(),
  progress: z.object({ turns: z.number(), currentTool: z.string().optional(), updatedAt: z.number() }).optional(),
  result: z.object({ summary: z.string(), costUsd: z.number(), turns: z.number(), durationMs: z.number(), commits: z.number() }).optional(),
  failure: taskFailureSchema.optional(),
  waitingFor: z.string().optional(),
  blockedBy: z.string().optional(),
  dependsOn: z.object({ open: z.array(z.string()), unreadable: z.array(z.string()), checkedAt: z.number() }).optional(),
  capped: z.array(z.string()).optional(),
  lease: z.string().optional(),
  session: z.object({ id: z.string(), agent: z.string(), dir: z.string(), run: z.number(), promptedAt: z.number() }).optional(),
  resumed: z.boolean().optional(),
  tests: taskTestsSchema.optional(),
  autoMerge: mergeMethodSchema.optional(),
  autoMergeOutcome: z.object({ status: z.enum(["enabled", "skipped", "refused"]), message: z.string().optional() }).optional(),
  prUrl: z.string().optional(),
  prNumber: z.number().optional(),
  pushedSha: z.string().optional(),
  mergedAt: z.number().optional(),
  closedAt: z.number().optional(),
  pullRequest: pullRequestSchema.optional(),
  ciFix: z.object({ attempt: z.number(), maxAttempts: z.number(), checks: z.array(z.string()) }).optional(),
  conflict: z.object({ attempt: z.number(), maxAttempts: z.number(), baseBranch: z.string(), behind: z.boolean().optional() }).optional(),
  prCi: z
    .object({
      state: z.enum(["pending", "green", "red", "fixing", "gave-up"]),
      failing: z.array(z.string()),
      attempts: z.number(),
      maxAttempts: z.number().optional(),
      conflict: z.enum(["clean", "conflict", "resolving", "gave-up"]).optional(),
      conflictAttempts: z.number().optional(),
      conflictMaxAttempts: z.number().optional(),
    })
    .optional(),
  traceId: z.string().optional(),
  trace: traceCarrierSchema.optional(),
  commentId: z.number().optional(),
  version: z.number(),
  renderedVersion: z.number().optional(),
  lastEditAt: z.number().optional(),
  labelState: taskStateSchema.optional(),
  commentCreateStartedAt: z.number().optional(),
}) satisfies z.ZodType<TaskRecord>;
