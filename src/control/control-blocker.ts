import type { ControlState } from "../store/cluster-control.js";

/** What a task stopped by an emergency stop waits for, daemon or runner alike. */
export const STOPPED_WAITING_FOR = "the cluster to be resumed (emergency stop)";

/**
 * Pure: why the cluster's switch keeps a waiting task from starting, in words for the tracking
 * comment that say how to lift it; undefined while the cluster runs. Agents and the dispatcher
 * of runner mode both hold their tasks for it.
 */
export function controlBlocker(control: ControlState): string | undefined {
  const by = control.by ? ` by ${control.by}` : "";
  if (control.mode === "stopped") return `the cluster is stopped (emergency stop${by}): \`/claude resume\` or \`ccc resume\` lifts it`;
  if (control.mode === "paused") return `the cluster is paused${by}: \`/claude resume\` or \`ccc resume\` lifts it`;
  return undefined;
}
