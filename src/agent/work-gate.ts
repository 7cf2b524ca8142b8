import type { ClusterMode } from "../store/cluster-control.js";

/** Everything that decides whether an agent may start another task. */
export interface GateInputs {
  mode: ClusterMode;
  /** Epoch ms until which this agent's Claude account is over its usage limit. */
  accountPausedUntil?: number;
  session: "ok" | "expired" | "checking";
  /** Its account's budget gate: `spent` takes nothing (`tight` only narrows what is taken, in the fetch loop). */
  budget?: "ok" | "tight" | "spent";
  stopping: boolean;
  running: number;
  concurrency: number;
}

export interface GateState {
  /** Fetch new jobs now. */
  canTake: boolean;
  /** Nothing forbids work: up to `concurrency` tasks may run. */
  open: boolean;
  /** What the heartbeat and dashboards show. */
  state: "stopping" | "stopped" | "session-expired" | "checking-login" | "usage-limit" | "over-budget" | "paused" | "busy" | "idle";
}

/** Pure: the most serious reason not to work wins the displayed state. */
export function workGate(inputs: GateInputs, now: number): GateState {
  const limited = inputs.accountPausedUntil !== undefined && inputs.accountPausedUntil > now;
  const state: GateState["state"] = inputs.stopping
    ? "stopping"
    : inputs.mode === "stopped"
      ? "stopped"
      : inputs.session === "expired"
        ? "session-expired"
        : inputs.session === "checking"
          ? "checking-login"
          : limited
            ? "usage-limit"
            : inputs.budget === "spent"
              ? "over-budget"
              : inputs.mode === "paused"
                ? "paused"
                : inputs.running > 0
                  ? "busy"
                  : "idle";
  const blocked = state !== "busy" && state !== "idle";
  return { canTake: !blocked && inputs.running < inputs.concurrency, open: !blocked, state };
}
