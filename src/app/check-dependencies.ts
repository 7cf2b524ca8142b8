import { parseBlockers } from "../commands/parse-blockers.js";
import { cancelTask } from "../control/cancel-task.js";
import type { GitHubClient } from "../github/github-client.js";
import { isGone } from "../github/github-errors.js";
import { dependencySummaryOf, readBlockers, type DependencySummary } from "../github/read-blockers.js";
import type { TaskRecord } from "../queue/task-record.js";
import type { TaskStore } from "../queue/task-store.js";
import { cycleMessage, judgeDependencies, type DependencyVerdict } from "../reconciler/judge-dependencies.js";
import { BlockedTasks } from "../store/blocked-tasks.js";
import { formatTaskId, issueKey, parseTaskId, type IssueRef } from "../shared/task-id.js";
import type { DependencyDeps } from "./dependency-deps.js";
import { blockerKeys, failBlockedTask, releaseBlockedTask } from "./release-blocked-task.js";

/** Blocked tasks read while looking for a cycle: enough for any real chain, bounded for a runaway one. */
const MAX_GRAPH_READS = 50;

/** The dependent issue as GitHub shows it now. */
export interface DependentIssueView extends IssueRef {
  body: string;
  dependencySummary?: DependencySummary | undefined;
}

/**
 * Whether the task of `issue` must wait: its blockers read from GitHub (`closed` is the issue
 * whose close is being handled), judged against what the cluster's other blocked tasks wait for.
 */
export async function judgeIssue(store: TaskStore, octokit: GitHubClient, issue: DependentIssueView, closed?: string): Promise<DependencyVerdict> {
  const named = parseBlockers(issue.body, issue);
  if (named.length === 0 && !issue.dependencySummary?.blocked_by) return { kind: "clear" };
  const blockers = await readBlockers(octokit, { ...issue, named }, closed);
  const open = blockers.filter((b) => b.state === "open").map((b) => formatTaskId(b.ref));
  return judgeDependencies({ taskId: formatTaskId(issue), blockers, waitsFor: await waitsFor(store, open) });
}

/** What the blocked tasks reachable from `start` wait for, by issue key: the edges a cycle would run along. */
async function waitsFor(store: TaskStore, start: readonly string[]): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const queue = [...start];
  let reads = 0;
  while (queue.length > 0 && reads < MAX_GRAPH_READS) {
    const id = queue.shift()!;
    const ref = parseTaskId(id);
    if (!ref || graph.has(issueKey(ref))) continue;
    reads++;
    const record = await store.get(id);
    const next = record?.state === "blocked" ? (record.dependsOn?.open ?? []) : [];
    graph.set(issueKey(ref), next);
    queue.push(...next);
  }
  return graph;
}

/** Fails every blocked task of the cycle, each with the cycle in its words: none of them would ever start. */
export async function failCycle(deps: Omit<DependencyDeps, "getOctokit">, cycle: readonly string[]): Promise<void> {
  for (const id of new Set(cycle)) {
    const record = await deps.store.get(id);
    if (record?.state === "blocked") await failBlockedTask(deps, record, cycleMessage(cycle, record), "dependency-cycle");
  }
}

export type CheckOutcome = "released" | "blocked" | "cycle" | "cancelled" | "unchanged";

/**
 * Reads a blocked task's issue and blockers again and acts: queue it when nothing holds it,
 * fail the cycle it is in, or record what it waits for now. Used on a blocker's `issues.closed`
 * (`closed` is that blocker's key) and by the reconciler's periodic check, for a close event
 * that was missed or a body edited since. GitHub errors are thrown: the next check tries again.
 */
export async function checkBlockedTask(deps: DependencyDeps, record: TaskRecord, closed?: string): Promise<CheckOutcome> {
  if (record.state !== "blocked") return "unchanged";
  const octokit = await deps.getOctokit(record.installationId);
  const issue = await readIssue(octokit, record);
  if (!issue || issue.state === "closed") {
    // Its own close cancels it too (handleClosed); this covers a missed event, or a deleted issue.
    await cancelTask(deps, record.taskId, issue ? "the app (the issue was closed)" : "the app (the issue is gone)");
    return "cancelled";
  }
  const view = { owner: record.owner, repo: record.repo, number: record.issueNumber, body: issue.body ?? "", dependencySummary: dependencySummaryOf(issue) };
  const verdict = await judgeIssue(deps.store, octokit, view, closed);
  switch (verdict.kind) {
    case "clear":
      return (await releaseBlockedTask(deps, record, closed ? `${closed} closed` : "its blockers are closed")) === "queued" ? "released" : "unchanged";
    case "cycle":
      await failCycle(deps, verdict.cycle);
      return "cycle";
    case "blocked":
      await recordWaits(deps, record, verdict);
      return "blocked";
  }
}

/** Records what a still-blocked task waits for now; the comment is rendered again only if that changed. */
async function recordWaits(deps: DependencyDeps, record: TaskRecord, waits: { open: string[]; unreadable: string[] }): Promise<void> {
  const now = (deps.now ?? Date.now)();
  const blocked = new BlockedTasks(deps.redis, deps.prefix);
  const dependsOn = { open: waits.open, unreadable: waits.unreadable, checkedAt: now };
  const before = blockerKeys(record);
  const after = blockerKeys({ dependsOn });
  // The index and the held job live a retention from their last write: written again while blocked.
  await blocked.index(record.taskId, after);
  await blocked.touch(record.taskId);
  await blocked.unindex(
    record.taskId,
    before.filter((key) => !after.includes(key)),
  );
  const same = JSON.stringify([record.dependsOn?.open, record.dependsOn?.unreadable]) === JSON.stringify([dependsOn.open, dependsOn.unreadable]);
  if (same) {
    await deps.store.annotate(record.taskId, { dependsOn }, { run: record.run });
    return;
  }
  if (await deps.store.update(record.taskId, { dependsOn }, ["blocked"], { run: record.run })) {
    await deps.events.emit({ type: "task-changed", taskId: record.taskId });
  }
}

/** Dependents checked inside the close's webhook; the rest wait for the reconciler's next pass. */
const CHECKED_AT_CLOSE = 5;

/**
 * A blocker was closed: each task the index says waits for it is checked again (its other
 * blockers may still be open). Index entries of tasks that moved on are dropped. GitHub waits
 * about ten seconds for a webhook's answer, so only the first few are checked here; the others
 * are marked for the reconciler's next pass (an unchecked `checkedAt` comes first). A check that
 * fails is logged and left to the reconciler too.
 */
export async function onBlockerClosed(deps: DependencyDeps, blocker: IssueRef): Promise<void> {
  const key = issueKey(blocker);
  const blocked = new BlockedTasks(deps.redis, deps.prefix);
  let checked = 0;
  for (const taskId of await blocked.dependents(key)) {
    const record = await deps.store.get(taskId);
    if (record?.state !== "blocked") {
      await blocked.unindex(taskId, [key]);
      continue;
    }
    if (checked++ >= CHECKED_AT_CLOSE) {
      if (record.dependsOn) await deps.store.annotate(taskId, { dependsOn: { ...record.dependsOn, checkedAt: 0 } }, { version: record.version });
      continue;
    }
    try {
      const outcome = await checkBlockedTask(deps, record, key);
      deps.log.info({ taskId, blocker: formatTaskId(blocker), outcome }, "blocker closed: dependent checked");
    } catch (error) {
      deps.log.warn(
        { err: error, taskId, blocker: formatTaskId(blocker) },
        "blocker closed but its dependent could not be checked; the reconciler checks it again",
      );
    }
  }
}

async function readIssue(octokit: GitHubClient, record: TaskRecord) {
  try {
    return (await octokit.rest.issues.get({ owner: record.owner, repo: record.repo, issue_number: record.issueNumber })).data;
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}
