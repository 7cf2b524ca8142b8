import type { TaskRecord } from "../queue/task-record.js";
import type { Logger } from "../shared/logger.js";

/** The app's side of blocked tasks, which reads GitHub and queues jobs the way the intake does. */
export interface BlockedTaskHooks {
  /** Reads the task's issue and blockers again, and releases, fails or updates it. */
  check(task: TaskRecord): Promise<unknown>;
  /** Queues again the held job of a released task whose job never reached its queue; false when there is none. */
  requeue(task: TaskRecord): Promise<boolean>;
  /** A blocked task is checked at most this often (`CCC_DEPENDENCY_CHECK_SECONDS`). */
  everyMs: number;
  /** Blocked tasks checked per pass at most, the longest unchecked first: GitHub calls stay bounded. @defaultValue 10 */
  perPass?: number;
}

/**
 * The reconciler's pass over blocked tasks: those not checked for longest, if due, at most
 * `perPass`, so a missed close event costs at most `everyMs` and GitHub calls stay bounded. A
 * check that fails is logged; the task is checked again at a later pass.
 */
export async function checkBlockedTasks(tasks: readonly TaskRecord[], hooks: BlockedTaskHooks, now: number, log: Logger): Promise<void> {
  const checkedAt = (task: TaskRecord) => task.dependsOn?.checkedAt ?? 0;
  const due = tasks
    .filter((task) => now - checkedAt(task) >= hooks.everyMs)
    .sort((a, b) => checkedAt(a) - checkedAt(b))
    .slice(0, hooks.perPass ?? 10);
  for (const task of due) {
    try {
      await hooks.check(task);
    } catch (error) {
      log.warn({ err: error, taskId: task.taskId }, "could not check a blocked task's blockers; checked again at a later pass");
    }
  }
}
