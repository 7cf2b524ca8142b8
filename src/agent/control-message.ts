import type { AccountPausedMessage } from "../store/account-pauses.js";
import type { ControlMessage as CancelMessage } from "../control/cancel-task.js";
import type { ModeMessage } from "../control/cluster-control.js";

/** Asks one agent to check its Claude login again (its session-timeout issue was closed). */
export interface VerifyLoginMessage {
  type: "verify-login";
  agent: string;
}

/** Everything published on the control channel. */
export type AgentControlMessage = CancelMessage | ModeMessage | AccountPausedMessage | VerifyLoginMessage;

const TYPES = new Set(["cancel", "mode", "account-paused", "verify-login"]);

export function parseControlMessage(raw: string): AgentControlMessage | undefined {
  try {
    const message = JSON.parse(raw) as { type?: unknown };
    return typeof message.type === "string" && TYPES.has(message.type) ? (message as AgentControlMessage) : undefined;
  } catch {
    return undefined;
  }
}
