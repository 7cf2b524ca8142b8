import { claimTask, type TaskDraft } from "../queue/task-factory.js";
import type { DependencyVerdict } from "../reconciler/judge-dependencies.js";
import { BlockedTasks } from "../store/blocked-tasks.js";
import { failCycle } from "./check-dependencies.js";
import type { DependencyDeps } from "./dependency-deps.js";
import { blockerKeys } from "./release-blocked-task.js";

export type HoldOutcome =
  | { status: "blocked"; taskId: string; run: number; waitsFor: string[] }
  | { status: "cycle"; taskId: string; run: number; cycle: string[] }
  | { status: "already-live"; taskId: string; state: string };

/**
 * Claims the draft's new run as `blocked`, with no queue job: its job, signed for `queue`, is
 * held in Redis and the issues it waits for point back at it (BlockedTasks), so the last one's
 * close queues it. A run whose blockers wait for it in turn is claimed too, so that its issue
 * shows why, and failed at once with the cycle.
 */
export async function holdDraft(
  deps: Omit<DependencyDeps, "getOctokit">,
  draft: TaskDraft,
  queue: string,
  verdict: Exclude<DependencyVerdict, { kind: "clear" }>,
): Promise<HoldOutcome> {
  const { taskId } = draft;
  const now = draft.createdAt;
  const dependsOn =
    verdict.kind === "blocked"
      ? { open: verdict.open, unreadable: verdict.unreadable, checkedAt: now }
      : { open: [verdict.cycle[1]!], unreadable: [], checkedAt: now };
  const claim = await claimTask(deps.store, draft, queue, dependsOn);
  if (!claim.created) return { status: "already-live", taskId, state: "blocked" };
  const { run } = claim.task;
  const blocked = new BlockedTasks(deps.redis, deps.prefix);
  try {
    await blocked.hold(taskId, { run, queue, data: deps.queues.sign(claim.task, queue) });
    await blocked.index(taskId, blockerKeys({ dependsOn }));
  } catch (error) {
    // Never leave a blocked claim without its held job: it would wait forever for nothing.
    await deps.store.update(
      taskId,
      { state: "failed", failure: { kind: "unknown", message: `could not hold the task: ${(error as Error).message}` }, finishedAt: now },
      ["blocked"],
      { run },
    );
    throw error;
  }
  await deps.events.emit({ type: "task-changed", taskId });
  if (verdict.kind === "cycle") {
    await failCycle(deps, verdict.cycle);
    return { status: "cycle", taskId, run, cycle: verdict.cycle };
  }
  return { status: "blocked", taskId, run, waitsFor: [...verdict.open, ...verdict.unreadable] };
}
