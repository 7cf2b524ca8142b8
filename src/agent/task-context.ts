import type { AgentOptions } from "../config/agent-options.js";
import type { UsageStore } from "../ops/usage-store.js";
import type { TaskStore } from "../queue/task-store.js";
import type { EventQueue } from "../reporter/event-queue.js";
import type { Logger } from "../shared/logger.js";
import type { Workspace } from "../workspace/workspace.js";
import type { runClaude } from "../claude/run-claude.js";

/** What the task processor needs from its agent. */
export interface TaskContext {
  options: AgentOptions;
  store: TaskStore;
  events: EventQueue;
  workspace: Workspace;
  usage: UsageStore;
  log: Logger;
  /** Swappable for tests; the real one spawns the CLI. */
  runClaude: typeof runClaude;
  now: () => number;
  /** How often progress reaches the task record. */
  progressIntervalMs: number;
}

/** Why a run was aborted from outside. */
export type AbortReason = "cancelled" | "shutdown";
