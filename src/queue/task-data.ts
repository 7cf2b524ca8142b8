import { z } from "zod";
import { mergeMethodSchema } from "../config/merge-method.js";
import { prioritySchema } from "../shared/priority.js";
import { specialtySchema } from "../shared/specialty.js";
import { traceCarrierSchema } from "../telemetry/trace-carrier-schema.js";

/** The pull request a review-feedback task works on; the task record holds the same. */
export const pullRequestSchema = z.object({
  number: z.number().int(),
  /** Same repository as the PR's base: fork PRs are never run. */
  headBranch: z.string(),
  baseBranch: z.string(),
  /**
   * Feedback written after this time (epoch ms) is this run's; before it, an earlier run's.
   * Absent on a PR's first run: all of it is.
   */
  feedbackSince: z.number().optional(),
});

const reviewCommentSchema = z.object({ author: z.string(), body: z.string(), createdAt: z.string() });

/** The PR's review feedback since the last run, counted and cut at intake (see enqueue-pull-request.ts). */
export const feedbackSchema = z.object({
  /** Review bodies (approve, comment, request changes), oldest first. */
  reviews: z.array(reviewCommentSchema.extend({ state: z.string() })),
  /** Inline review comments grouped into threads by `in_reply_to_id`, oldest thread first. */
  threads: z.array(
    z.object({
      path: z.string(),
      line: z.number().int().optional(),
      comments: z.array(reviewCommentSchema),
    }),
  ),
  /** What was left out to bound the prompt: whole reviews, whole threads, replies inside kept threads. */
  omitted: z.object({ reviews: z.number().int(), threads: z.number().int(), replies: z.number().int() }),
  /** The issue whose cluster task opened the PR, or that its body closes. */
  linkedIssue: z.object({ number: z.number().int(), title: z.string(), body: z.string() }).optional(),
});

/** One failing check of a pull request's head commit, as GitHub reported it: hostile text, capped at intake. */
export const ciFailureSchema = z.object({
  /** The check run's name, or a commit status's context. */
  name: z.string(),
  /** GitHub's conclusion (`failure`, `timed_out`, …) or the status's state (`failure`, `error`). */
  conclusion: z.string(),
  /** Where a person reads it on GitHub. */
  url: z.string().optional(),
  /** The check run's output: title, summary and text, or a status's description as `summary`. */
  title: z.string().optional(),
  summary: z.string().optional(),
  text: z.string().optional(),
  /** The check run's annotations, failures first. */
  annotations: z.array(z.object({ path: z.string(), line: z.number().int().optional(), level: z.string(), message: z.string() })),
  /** A GitHub Actions job's log, its last lines, with timestamps and colours stripped and secrets redacted. */
  logTail: z.string().optional(),
});

/** A CI-fix task: the red checks of the PR's head commit that Claude is asked to make green. */
export const ciFixSchema = z.object({
  /** Which attempt this is, counted per pull request since its checks were last green. */
  attempt: z.number().int().min(1),
  /** The repository's `ciFixAttempts`. */
  maxAttempts: z.number().int().min(1),
  /** The head commit whose checks failed: the worktree starts there. */
  headSha: z.string(),
  checks: z.array(ciFailureSchema),
  /** Failing checks left out of `checks` to bound the prompt. */
  omitted: z.number().int().min(0),
});

/** A conflict task: the PR's base moved and the PR no longer merges; the agent merges the base in. */
export const conflictFixSchema = z.object({
  attempt: z.number().int().min(1),
  maxAttempts: z.number().int().min(1),
  /** The base branch's commit GitHub found the conflict with; the agent merges what origin has then. */
  baseSha: z.string(),
  /** No conflict: the branch is only behind a base the repository's branch protection wants merged in. */
  behind: z.boolean().optional(),
  /** The files git left conflicted, filled in by the agent for the prompt (never by the app). */
  files: z.array(z.string()).optional(),
});

export type ConflictFix = z.infer<typeof conflictFixSchema>;
export type CiFailure = z.infer<typeof ciFailureSchema>;
export type CiFix = z.infer<typeof ciFixSchema>;
export type PullRequestRef = z.infer<typeof pullRequestSchema>;
export type PullRequestFeedback = z.infer<typeof feedbackSchema>;

/**
 * What a task carries through Redis. BullMQ stores job data in clear text, so nothing
 * secret goes in here: no tokens, no keys. Agents push with their own git credentials.
 */
export const taskDataSchema = z.object({
  /** `owner/repo#n`; one live task per issue. */
  taskId: z.string(),
  /** Increments each time the issue is handed to Claude again; part of the BullMQ job id. */
  run: z.number().int().min(1),
  repo: z.object({
    owner: z.string(),
    name: z.string(),
    /** URL the agent clones and pushes to with its machine's git credentials. */
    cloneUrl: z.string(),
    defaultBranch: z.string(),
  }),
  /** GitHub App installation that the reporter writes through. */
  installationId: z.number().int(),
  issue: z.object({
    number: z.number().int(),
    title: z.string(),
    body: z.string(),
    url: z.string(),
    author: z.string(),
  }),
  /** Issue comments up to the trigger, oldest first. */
  comments: z.array(z.object({ author: z.string(), body: z.string(), createdAt: z.string() })),
  specialty: specialtySchema,
  priority: prioritySchema,
  /** Why the router chose the specialty, shown in the tracking comment. */
  reason: z.string(),
  trigger: z.object({
    /** `checks`: the app itself, for a red check on a commit the cluster pushed. */
    kind: z.enum(["label", "comment", "review", "checks"]),
    actor: z.string(),
    deliveryId: z.string(),
  }),
  /** `claude/issue-<n>-<slug>`, stable across retries so a rerun continues the same branch. */
  branch: z.string(),
  settings: z.object({
    model: z.string().optional(),
    maxTurns: z.number().int(),
    timeoutMinutes: z.number().int(),
    allowedTools: z.array(z.string()),
    permissionMode: z.string(),
    draftPullRequest: z.boolean(),
    /** Extra role text for the specialty from the repo config. */
    role: z.string().optional(),
    /**
     * The repository's test command (`test:`), run in the worktree after Claude and before the
     * push. Signed with the rest: an agent runs only a command the app read from the config.
     */
    test: z.object({ command: z.string(), timeoutMinutes: z.number().int(), fixAttempts: z.number().int() }).optional(),
    /** `merge: auto`: the reporter enables GitHub's auto-merge with this method once the tests passed. Absent: off. */
    autoMerge: mergeMethodSchema.optional(),
  }),
  createdAt: z.number(),
  /** Epoch ms before which no agent starts the task (`/claude run at <time>` or `in <duration>`). */
  notBefore: z.number().optional(),
  /**
   * Set for a task on a pull request (review feedback): `issue` is then the pull request, the
   * task's id is the PR's number, and Claude adds commits to its head branch (`branch`).
   */
  pullRequest: pullRequestSchema.optional(),
  /** What the user asked for in the command itself (`/claude run <instructions>`). */
  instructions: z.string().optional(),
  /** Review feedback on the pull request for the prompt: set only with `pullRequest`. */
  feedback: feedbackSchema.optional(),
  /** A CI-fix task on the pull request (set only with `pullRequest`): the failures to fix. */
  ciFix: ciFixSchema.optional(),
  /** A conflict task on the pull request (set only with `pullRequest`): merge the base branch in. */
  conflict: conflictFixSchema.optional(),
  /**
   * The trace this run belongs to (W3C trace context: ids only), for the agent's spans to join.
   * Absent with tracing off, so the job is byte for byte what it was. Outside the signature
   * (task-signature.ts): an agent older than this field drops it and still runs the job.
   */
  trace: traceCarrierSchema.optional(),
});

export type TaskData = z.infer<typeof taskDataSchema>;
