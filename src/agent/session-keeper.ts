import type { TaskRecord } from "../queue/task-record.js";
import { isSessionId } from "../claude/run-claude.js";
import type { TaskStore } from "../queue/task-store.js";
import type { Logger } from "../shared/logger.js";
import { directoryBytes, worktreesToEvict, type KeptWorktrees } from "../workspace/kept-worktrees.js";
import type { PreparedWorktree, Workspace } from "../workspace/workspace.js";

/** A session this agent can continue: the worktree it worked in, taken up as it was left. */
export interface Resumable {
  prepared: PreparedWorktree;
  sessionId: string;
  /** Claude has seen the comments up to this time: later ones are new to it. */
  since: number;
  /** The session belongs to an earlier run (`/claude retry`), not to an earlier attempt of this one. */
  earlierRun: boolean;
}

export interface SessionKeeperOptions {
  kept: KeptWorktrees;
  workspace: Workspace;
  store: TaskStore;
  /** This agent's name: only sessions it started are continued here. */
  agent: string;
  /** `--keep-worktrees-mb` in bytes; 0 keeps nothing. */
  limitBytes: number;
  log: Logger;
  now: () => number;
}

/**
 * Which worktrees outlive their attempt so that the next one can continue Claude's session in
 * them (`claude --resume`), and for how long: until the task ends, its record goes, another
 * agent takes its session over, or the disk limit needs the room (least recently used first).
 */
export class SessionKeeper {
  /** Tasks running here now: their worktrees are never evicted or swept. */
  private readonly busy = new Set<string>();

  constructor(private readonly options: SessionKeeperOptions) {}

  get enabled(): boolean {
    return this.options.limitBytes > 0;
  }

  /** Marks a task as running here; `done` ends it. */
  begin(taskId: string): void {
    this.busy.add(taskId);
  }

  done(taskId: string): void {
    this.busy.delete(taskId);
  }

  /**
   * The session the task's record names, when this agent started it and still keeps its
   * worktree untouched; undefined means a fresh run (the reason is logged).
   */
  async takeUp(record: TaskRecord, log: Logger): Promise<Resumable | undefined> {
    const session = record.session;
    if (!this.enabled || !session || session.agent !== this.options.agent) return undefined;
    // Read back from Redis, outside the task's signature: only a real session id may reach `--resume`.
    if (!isSessionId(session.id)) {
      log.warn({ sessionId: session.id.slice(0, 60) }, "the task's recorded session id is not a Claude session id: starting Claude afresh");
      return undefined;
    }
    const kept = await this.options.kept.get(record.taskId);
    if (!kept || kept.dir !== session.dir) {
      log.info({ sessionId: session.id }, "the worktree of the task's last session is no longer kept here (evicted or removed): starting Claude afresh");
      return undefined;
    }
    const reopened = await this.options.workspace.reopen(kept);
    if ("why" in reopened) {
      log.warn({ sessionId: session.id, dir: kept.dir, why: reopened.why }, "kept worktree not trusted, removed: starting Claude afresh");
      await this.options.kept.delete(record.taskId);
      return undefined;
    }
    await this.options.kept.put({ ...kept, usedAt: this.options.now() });
    return { prepared: reopened.prepared, sessionId: session.id, since: session.promptedAt, earlierRun: session.run !== record.run };
  }

  /**
   * Written as the attempt starts, before Claude runs: a run cut short by a crash of the agent
   * or its PC (nothing after this line runs then) leaves its worktree known, so the agent
   * started again on that PC continues the session in it. Nothing is evicted now: a running
   * task's worktree never is.
   */
  async hold(taskId: string, prepared: PreparedWorktree): Promise<void> {
    if (!this.enabled) return;
    const { dir, branch, baseSha, startSha, reusedBranch } = prepared;
    await this.options.kept.put({ taskId, dir, branch, baseSha, startSha, reusedBranch, usedAt: this.options.now() });
  }

  /** The task is not over: keep its worktree for the next attempt, then make room under the limit. */
  async keep(taskId: string, prepared: PreparedWorktree): Promise<void> {
    if (!this.enabled) return this.release(taskId, prepared);
    const { dir, branch, baseSha, startSha, reusedBranch } = prepared;
    await this.options.kept.put({ taskId, dir, branch, baseSha, startSha, reusedBranch, usedAt: this.options.now() });
    this.options.log.info({ taskId, dir }, "worktree kept for the task's next attempt (resumed session)");
    await this.evict();
  }

  /** The task is over here: its worktree goes. */
  async release(taskId: string, prepared: Pick<PreparedWorktree, "dir" | "branch">): Promise<void> {
    const kept = await this.options.kept.get(taskId);
    await this.options.workspace.remove(prepared);
    if (kept?.dir === prepared.dir) await this.options.kept.delete(taskId);
  }

  /**
   * Removes kept worktrees no attempt can continue: the task ended (a `failed` one stays for
   * `/claude retry`), its record is gone, or its session is now another agent's. Run at start
   * and after each task; a task that ended elsewhere (cancelled, failed by the reconciler) goes here.
   */
  async sweep(): Promise<void> {
    const { worktrees, problem } = await this.options.kept.list();
    if (problem) this.options.log.warn({ file: this.options.kept.file, problem }, "kept worktree list unreadable: starting a new one");
    for (const kept of worktrees) {
      if (this.busy.has(kept.taskId)) continue;
      const record = await this.options.store.get(kept.taskId);
      const why = staleReason(record, kept.dir, this.options.agent);
      if (why === undefined || this.busy.has(kept.taskId)) continue;
      await this.drop(kept.taskId, kept, `kept worktree removed: ${why}`);
    }
    await this.evict();
  }

  private async evict(): Promise<void> {
    const { worktrees } = await this.options.kept.list();
    const sized = await Promise.all(worktrees.map(async (kept) => ({ ...kept, bytes: await directoryBytes(kept.dir) })));
    for (const kept of worktreesToEvict(sized, this.options.limitBytes, this.busy)) {
      const limitMb = Math.round(this.options.limitBytes / 2 ** 20);
      await this.drop(kept.taskId, kept, `kept worktree evicted: the kept worktrees are over --keep-worktrees-mb ${limitMb} (least recently used first)`);
    }
  }

  private async drop(taskId: string, kept: Pick<PreparedWorktree, "dir" | "branch">, message: string): Promise<void> {
    this.options.log.info({ taskId, dir: kept.dir }, message);
    await this.options.workspace.remove(kept).catch((error: Error) => this.options.log.warn({ err: error, dir: kept.dir }, "could not remove a kept worktree"));
    await this.options.kept.delete(taskId);
  }
}

/** Why a kept worktree can no longer be resumed, or undefined while it can. Pure. */
export function staleReason(record: TaskRecord | undefined, dir: string, agent: string): string | undefined {
  if (!record) return "the task's record is gone";
  if (record.state === "pr-open" || record.state === "no-changes" || record.state === "cancelled") return `the task ended (${record.state})`;
  if (!record.session) return "the task has no Claude session to continue";
  if (record.session.agent !== agent) return `the task's session is now agent ${record.session.agent}'s`;
  if (record.session.dir !== dir) return "the task's session worked in another worktree";
  return undefined;
}
