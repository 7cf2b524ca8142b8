import type { Blocker } from "../github/read-blockers.js";
import { formatTaskId, issueKey, issueMention, parseTaskId, type IssueRef } from "../shared/task-id.js";

export type DependencyVerdict =
  /** Nothing holds the task: queue it. */
  | { kind: "clear" }
  /** It waits: for these open issues, and these the app cannot read (which hold it too). */
  | { kind: "blocked"; open: string[]; unreadable: string[] }
  /** It waits, through its blockers' own blocked tasks, for itself: `cycle` runs from it back to it. */
  | { kind: "cycle"; cycle: string[] };

export interface DependencyInputs {
  /** The dependent task, `owner/repo#n`. */
  taskId: string;
  blockers: readonly Blocker[];
  /**
   * What the cluster's other blocked tasks wait for, by `issueKey` of their issue: the open
   * blockers of each (task ids). Only tasks the walk can reach from this one's blockers matter.
   */
  waitsFor: ReadonlyMap<string, readonly string[]>;
}

/**
 * Pure: whether a task must wait for its blockers, and whether that wait can ever end. A cycle
 * counts only through tasks the cluster holds blocked (both issues handed to Claude): an open
 * issue nobody gave to Claude may still be closed by a person.
 */
export function judgeDependencies(inputs: DependencyInputs): DependencyVerdict {
  const holding = inputs.blockers.filter((b) => b.state !== "closed");
  if (holding.length === 0) return { kind: "clear" };
  const cycle = findCycle(
    inputs.taskId,
    holding.filter((b) => b.state === "open").map((b) => formatTaskId(b.ref)),
    inputs.waitsFor,
  );
  if (cycle) return { kind: "cycle", cycle };
  return {
    kind: "blocked",
    open: holding.filter((b) => b.state === "open").map((b) => formatTaskId(b.ref)),
    unreadable: holding.filter((b) => b.state === "unreadable").map((b) => formatTaskId(b.ref)),
  };
}

/** Depth-first from the task's open blockers; the first path that comes back to the task. */
function findCycle(taskId: string, blockers: readonly string[], waitsFor: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const target = keyOf(taskId);
  const seen = new Set<string>();
  const walk = (id: string, path: string[]): string[] | undefined => {
    const key = keyOf(id);
    if (key === target) return [...path, taskId];
    if (seen.has(key)) return undefined;
    seen.add(key);
    for (const next of waitsFor.get(key) ?? []) {
      const found = walk(next, [...path, id]);
      if (found) return found;
    }
    return undefined;
  };
  for (const blocker of blockers) {
    const found = walk(blocker, [taskId]);
    if (found) return found;
  }
  return undefined;
}

function keyOf(taskId: string): string {
  const ref = parseTaskId(taskId);
  return ref ? issueKey(ref) : taskId.toLowerCase();
}

/** What a task in a dependency cycle says on its issue; the tracking comment adds what ends it. */
export function cycleMessage(cycle: readonly string[], here: Pick<IssueRef, "owner" | "repo">): string {
  const [first, second, ...rest] = cycle.map((id) => issueMention(id, here));
  const chain = [`${first} waits for ${second}`, ...rest.map((id) => `which waits for ${id}`)].join(", ");
  return `its issues wait for each other in a cycle (${chain}), so none of them would ever start`;
}
