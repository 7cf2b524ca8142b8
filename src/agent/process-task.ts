import { join } from "node:path";
import { UnrecoverableError, type Job } from "bullmq";
import { buildContinuation, buildPrompt } from "../claude/build-prompt.js";
import { buildTestFix } from "../claude/build-test-fix.js";
import type { ClaudeRunOutcome } from "../claude/run-claude.js";
import { runUsage } from "../claude/run-usage.js";
import { taskDataSchema, type TaskData } from "../queue/task-data.js";
import type { TaskRecord } from "../queue/task-record.js";
import { capSettings } from "./cap-settings.js";
import { claimRun } from "./claim-run.js";
import { cloneUrl } from "./clone-url.js";
import { pushStep } from "./push-step.js";
import { runTestStep, withFixes } from "./test-step.js";
import { finishMerge, mergedByGit, startMerge } from "./merge-step.js";
import { forgetRemoteWait, isRemoteOutage, waitForRemote } from "./wait-for-remote.js";
import { ProgressTracker } from "../claude/progress-tracker.js";
import type { Resumable } from "./session-keeper.js";
import type { PreparedWorktree } from "../workspace/workspace.js";
import type { AbortReason, TaskContext } from "./task-context.js";
import { aborted, failed, stale, type TaskEnd } from "./run-endings.js";
import { SpanKind } from "@opentelemetry/api";
import { withSpan } from "../telemetry/tracer.js";
import { traceEnv } from "../telemetry/trace-env.js";
import { executorAttributes, recordRunOutcome } from "../claude/executor-span.js";
import { recordQueueWait, recordTestRun, recordWorkspaceTimings, taskAttributes } from "./run-spans.js";

export type { TaskEnd };
export { runLease } from "./claim-run.js";

/**
 * Runs one task: claim it, prepare a worktree, run Claude, push, and hand the outcome to the
 * reporter. Failures decide the job's fate through BullMQ's error types: retried, failed at
 * once, or put back without spending an attempt.
 */
export async function processTask(ctx: TaskContext, job: Job, token: string | undefined, signal: AbortSignal): Promise<TaskEnd> {
  const data = taskDataSchema.parse(job.data);
  ctx.sessions.begin(data.taskId);
  try {
    // One span per pick-up, in the task's trace: its context came in the signed job data.
    recordQueueWait(data, job, ctx.now());
    return await withSpan(
      "task run",
      { kind: SpanKind.CONSUMER, parent: data.trace, attributes: taskAttributes(data, job, ctx.options.name) },
      async (span) => {
        const end = await runTask(ctx, job, token, signal, data);
        span.setAttribute("ccc.task.end", end);
        return end;
      },
    );
  } finally {
    ctx.sessions.done(data.taskId);
  }
}

async function runTask(ctx: TaskContext, job: Job, token: string | undefined, signal: AbortSignal, data: TaskData): Promise<TaskEnd> {
  const log = ctx.log.child({ taskId: data.taskId, run: data.run, jobId: job.id });
  const attempt = job.attemptsMade + 1;

  // 1. Claim: a cancelled task, or a stale job from an earlier run, is dropped here.
  const claimed = await claimRun(ctx, job, token, data);
  if (!claimed) return "skipped";
  const { record } = claimed;
  const own = { lease: claimed.lease };
  // The owner's ceiling wins over the repository's config: what it lowered goes on the issue.
  const { settings, capped } = capSettings(data.settings, ctx.options);
  if (capped.length > 0) {
    log.warn({ capped }, "task settings capped by this agent's ceiling");
    if (!(await ctx.store.update(data.taskId, { capped }, ["running"], own))) return stale(ctx, data);
  }
  await ctx.events.emit({ type: "task-changed", taskId: data.taskId });

  // 2. The worktree an earlier attempt left here, to continue its Claude session in; else a
  // fresh one on the task's branch (reused if a previous attempt pushed it). A repository
  // that cannot be reached now is waited for, without spending an attempt.
  const resumable = await ctx.sessions.takeUp(record, log).catch((error: Error) => {
    log.warn({ err: error }, "could not take up the kept worktree: starting Claude afresh");
    return undefined;
  });
  const prepared: PreparedWorktree =
    resumable?.prepared ??
    (await withSpan("workspace prepare", {}, async () => {
      const startedAt = Date.now();
      const fresh = await ctx.workspace.prepare({
        owner: data.repo.owner,
        repo: data.repo.name,
        cloneUrl: cloneUrl(ctx.options.gitUrl, data.repo),
        branch: data.branch,
        baseBranch: data.pullRequest?.baseBranch ?? data.repo.defaultBranch,
        taskKey: taskKey(data),
      });
      recordWorkspaceTimings(fresh, startedAt);
      return fresh;
    }).catch((error: unknown) => (isRemoteOutage(error) ? waitForRemote(ctx, job, token, data, error, own.lease) : Promise.reject(error))));
  await forgetRemoteWait(job);
  log.info({ dir: prepared.dir, reusedBranch: prepared.reusedBranch, resumed: resumable !== undefined, ...prepared.timings }, "worktree ready");
  // Known as kept from now on, so that even a crash of this agent leaves the session resumable here.
  if (!resumable) await ctx.sessions.hold(data.taskId, prepared).catch((error: Error) => log.warn({ err: error }, "could not note the worktree as kept"));

  // Whether the worktree outlives this attempt: only when the task is not over (a failure, a
  // limit, a shutdown), so that the next attempt here can continue the session in it.
  let keep = false;
  try {
    // A PR task adds to the PR's head branch: gone from origin means nothing to add to.
    if (data.pullRequest && !prepared.reusedBranch) {
      const message = `the pull request's branch ${data.branch} is no longer on origin (deleted or renamed): nothing ran. Restore the branch, then comment \`/claude run\` on the pull request again.`;
      if (!(await ctx.store.update(data.taskId, { state: "failed", failure: { kind: "push", message }, finishedAt: ctx.now() }, ["running"], own)))
        return stale(ctx, data);
      await ctx.events.emit({ type: "task-changed", taskId: data.taskId });
      throw new UnrecoverableError(message);
    }
    // A conflict task merges the PR's base in first: Claude runs only on what git could not merge.
    const { merge, task } = await startMerge(ctx.workspace, data, prepared);
    // 3. Claude, with progress streamed to the task record; the session id as soon as Claude names it.
    const progress = new ProgressTracker(ctx.progressIntervalMs, ctx.now);
    let sessionWrite: Promise<unknown> = Promise.resolve();
    // One span per executor run, which Claude joins through TRACEPARENT (docs/observability.md).
    const run = (prompt: string, sessionId: string | undefined) =>
      withSpan("executor run", { attributes: executorAttributes(settings.model, sessionId !== undefined) }, async (span) => {
        let model: string | undefined;
        const outcome = await runClaude(prompt, sessionId, traceEnv(), (name) => (model = name));
        recordRunOutcome(span, outcome, model);
        return outcome;
      });
    const runClaude = (prompt: string, sessionId: string | undefined, env: Record<string, string>, onModel: (model: string) => void) =>
      ctx.runClaude({
        bin: ctx.options.claudeBin,
        env,
        prompt,
        resume: sessionId,
        cwd: prepared.dir,
        ...(settings.model ? { model: settings.model } : {}),
        maxTurns: settings.maxTurns,
        permissionMode: settings.permissionMode,
        allowedTools: settings.allowedTools,
        timeoutMs: settings.timeoutMinutes * 60_000,
        signal,
        transcriptPath: join(ctx.options.workdir, "transcripts", data.repo.owner, data.repo.name, `${taskKey(data)}-run${data.run}-attempt${attempt}.jsonl`),
        log,
        onEvent: (event) => {
          progress.observe(event);
          if (progress.due()) void reportProgress(ctx, data, progress, own.lease);
          if (event.type === "init") {
            if (event.model) onModel(event.model);
            const session = { id: event.sessionId, agent: ctx.options.name, dir: prepared.dir, run: data.run, promptedAt: data.createdAt };
            sessionWrite = ctx.store
              .update(data.taskId, { session }, ["running"], own)
              .catch((error: Error) => log.warn({ err: error }, "could not record the Claude session"));
          }
        },
      });

    if (resumable && !(await ctx.store.update(data.taskId, { resumed: true }, ["running"], own))) return stale(ctx, data);
    // A conflict task merges in git alone when it can: Claude runs only on what git could not merge.
    const firstPrompt = resumable ? buildContinuation(task, { why: interruption(record, resumable), since: resumable.since }) : buildPrompt(task);
    let outcome = merge && merge.kind !== "conflicts" ? mergedByGit(merge.kind, data) : await run(firstPrompt, resumable?.sessionId);
    await sessionWrite;
    let resumed = resumable !== undefined;
    if (resumable && !outcome.ok && outcome.failure.sessionNotFound) {
      // Claude no longer has the conversation (its history was cleared, another login): start
      // afresh in the same worktree, in this same attempt.
      log.warn(
        { sessionId: resumable.sessionId, message: outcome.failure.message },
        "Claude no longer has the session to resume: running afresh in the same attempt",
      );
      resumed = false;
      if (!(await ctx.store.update(data.taskId, { resumed: null }, ["running"], own))) return stale(ctx, data);
      outcome = await run(buildPrompt(task), undefined);
      await sessionWrite;
    }

    if (!merge || merge.kind === "conflicts") await recordUsage(ctx, data, attempt, resumed, outcome);
    if (outcome.ok || (outcome.failure.kind !== "usage-limit" && outcome.result)) await ctx.onRunCompleted();

    // 4. An abort from outside wins over whatever the run produced.
    if (signal.aborted) {
      const reason = signal.reason as AbortReason;
      keep = reason === "shutdown" || reason === "stop";
      return await aborted(ctx, job, token, data, reason, own.lease);
    }

    if (!outcome.ok) {
      // Kept even when the task fails for good: a `/claude retry` continues the session.
      keep = true;
      return await failed(ctx, job, token, data, attempt, outcome.failure, own.lease);
    }

    const unresolved = await finishMerge(ctx.workspace, prepared.dir, merge);
    if (unresolved) {
      keep = true;
      return await failed(ctx, job, token, data, attempt, { kind: "invalid-request", message: unresolved, retryable: false }, own.lease);
    }
    // 5. Commit what Claude left uncommitted, push, let the reporter open the PR.
    await ctx.workspace.commitLeftovers(prepared.dir, `Work on #${data.issue.number}: uncommitted changes left by Claude`);
    const commits = await ctx.workspace.commitsAhead(prepared);
    // On a PR's branch, no new commit is an answer too: there is nothing to push.
    if (commits === 0 && (!prepared.reusedBranch || data.pullRequest)) {
      const result = { ...outcome.result, commits };
      if (!(await ctx.store.update(data.taskId, { state: "no-changes", result, finishedAt: ctx.now() }, ["running"], own))) return stale(ctx, data);
      await ctx.events.emit({ type: "task-changed", taskId: data.taskId });
      return "no-changes";
    }

    // 6. The repository's tests, on what will be pushed; a failure goes back to Claude's session
    // with the output, `fixAttempts` times. Still failing: pushed all the same, and the PR says so.
    let sessionId = outcome.result.sessionId;
    const { tests, fixes, stoppedBy } = await runTestStep({
      test: data.settings.test,
      policy: ctx.options.testCommands,
      runTests: async (test) => {
        await reportTestsRunning(ctx, data, progress, test.command, own.lease);
        const ran = await withSpan("test command", {}, async (span) => {
          const tested = await ctx.runTestCommand({ command: test.command, cwd: prepared.dir, timeoutMs: test.timeoutMinutes * 60_000, signal, log });
          recordTestRun(span, tested);
          return tested;
        });
        await ctx.workspace.discardChanges(prepared.dir);
        return ran;
      },
      fix: async (failure) => {
        const afresh = `${buildPrompt(task)}\n${buildTestFix(failure)}`;
        let resumedFix = sessionId !== undefined;
        let fixed = await run(resumedFix ? buildTestFix(failure) : afresh, sessionId);
        if (resumedFix && !fixed.ok && fixed.failure.sessionNotFound) {
          resumedFix = false;
          fixed = await run(afresh, undefined);
        }
        await sessionWrite;
        await recordUsage(ctx, data, attempt, resumedFix, fixed);
        sessionId = fixed.result?.sessionId ?? sessionId;
        if (!fixed.ok) log.warn({ kind: fixed.failure.kind, message: fixed.failure.message }, "Claude's run to fix the failing tests failed");
        if (!signal.aborted) await ctx.workspace.commitLeftovers(prepared.dir, `Work on #${data.issue.number}: uncommitted changes left by Claude`);
        return fixed;
      },
      signal,
      log,
    });
    if (signal.aborted) {
      const reason = signal.reason as AbortReason;
      keep = reason === "shutdown" || reason === "stop";
      return await aborted(ctx, job, token, data, reason, own.lease);
    }
    if (stoppedBy) {
      // The fix hit the usage limit or lost its login: wait, as any run would; the next attempt resumes the session.
      keep = true;
      return await failed(ctx, job, token, data, attempt, stoppedBy, own.lease);
    }
    const result = withFixes({ ...outcome.result, commits: fixes.length > 0 ? await ctx.workspace.commitsAhead(prepared) : commits }, fixes);
    // Still ours? Checked before the push, so a stale run never pushes over the new one.
    const pushedSha = await ctx.workspace.headSha(prepared);
    if (!(await ctx.store.update(data.taskId, { result, tests, pushedSha }, ["running"], own))) return stale(ctx, data);
    await withSpan("git push", { attributes: { "ccc.commits": result.commits } }, () => pushStep(ctx, data, prepared, signal, log, own.lease));
    await ctx.events.emit({ type: "pushed", taskId: data.taskId, run: data.run });
    log.info({ commits: result.commits, costUsd: result.costUsd, turns: result.turns, tests: tests.status }, "branch pushed");
    return "pushed";
  } finally {
    await (keep ? ctx.sessions.keep(data.taskId, prepared) : ctx.sessions.release(data.taskId, prepared)).catch((error: Error) =>
      log.warn({ err: error }, keep ? "could not keep the worktree" : "worktree cleanup failed"),
    );
  }
}

/** Names the worktree directory and the transcripts: an issue's and a pull request's never share one. */
function taskKey(data: TaskData): string {
  return data.pullRequest ? `pr-${data.pullRequest.number}` : `issue-${data.issue.number}`;
}

/** What the continuation tells Claude about why its last run stopped: the cluster's own words. */
function interruption(record: TaskRecord, resume: Resumable): string {
  if (resume.earlierRun) return "the run ended, and a maintainer asked for another one (`/claude retry`)";
  if (record.failure) return `it ended with "${record.failure.message}"`;
  return "the agent running it was stopped (a shutdown, a restart or an emergency stop)";
}

/** Every run that reached the API costs something, failed or not; the usage monitor counts it. */
async function recordUsage(ctx: TaskContext, data: TaskData, attempt: number, resumed: boolean, outcome: ClaudeRunOutcome): Promise<void> {
  const usage = runUsage(outcome);
  if (!usage) return;
  await ctx.usage
    .record({ at: ctx.now(), agent: ctx.options.name, account: ctx.options.account, taskId: data.taskId, run: data.run, attempt, resumed, ...usage })
    .catch((error: Error) => ctx.log.warn({ err: error }, "could not record usage"));
}

/** The tracking comment's progress line names the test command while it runs, which may take minutes. */
async function reportTestsRunning(ctx: TaskContext, data: TaskData, progress: ProgressTracker, command: string, lease: string): Promise<void> {
  const shown = { ...progress.take(), currentTool: `test command: ${command}` };
  const still = await ctx.store.update(data.taskId, { progress: shown }, ["running"], { lease });
  if (still) await ctx.events.emit({ type: "task-changed", taskId: data.taskId });
}

async function reportProgress(ctx: TaskContext, data: TaskData, progress: ProgressTracker, lease: string): Promise<void> {
  const still = await ctx.store.update(data.taskId, { progress: progress.take() }, ["running"], { lease });
  if (still) await ctx.events.emit({ type: "task-changed", taskId: data.taskId });
}
