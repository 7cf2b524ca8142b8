import type { ClaudeFailure } from "../claude/classify-failure.js";
import type { runClaude } from "../claude/run-claude.js";
import type { runTestCommand } from "./run-test-command.js";
import type { AgentOptions } from "../config/agent-options.js";
import type { UsageStore } from "../store/usage-store.js";
import type { TaskData } from "../queue/task-data.js";
import type { TaskStore } from "../queue/task-store.js";
import type { EventQueue } from "../queue/event-queue.js";
import type { Logger } from "../shared/logger.js";
import type { Workspace } from "../workspace/workspace.js";
import type { SessionKeeper } from "./session-keeper.js";

/** What the task processor needs from its agent. */
export interface TaskContext {
  options: AgentOptions;
  store: TaskStore;
  events: EventQueue;
  workspace: Workspace;
  /** Worktrees kept between attempts, for a resumed Claude session. */
  sessions: SessionKeeper;
  usage: UsageStore;
  log: Logger;
  /** Swappable for tests; the real one spawns the CLI. */
  runClaude: typeof runClaude;
  /** Runs the repository's test command; swappable like `runClaude`. */
  runTestCommand: typeof runTestCommand;
  now: () => number;
  /** How often progress reaches the task record. */
  progressIntervalMs: number;
  /** Backoff of a failing push (tests shrink it); the window is `options.gitRetryMinutes`. */
  pushRetry?: { firstDelayMs?: number; maxDelayMs?: number };
  /** First wait when the repository cannot be reached before a run (tests shrink it). @defaultValue 5000 */
  remoteRetryFirstDelayMs?: number;
  /** The account hit its usage limit: pause every agent on it. Returns when work may resume. */
  onUsageLimit(failure: ClaudeFailure): Promise<number>;
  /** The login is gone: stop taking work and have the reporter raise a session-timeout issue. */
  onSessionExpired(failure: ClaudeFailure, task: TaskData): Promise<void>;
  /** A run reached Claude and finished: the account's usage backoff starts over. */
  onRunCompleted(): Promise<void>;
}

/**
 * Why a run was aborted from outside. `lost`: the agent lost the job's lock (it slept or lost
 * Redis past it), so the task may already run elsewhere and this run must change nothing.
 */
export type AbortReason = "cancelled" | "shutdown" | "stop" | "lost";
