import type { TaskData } from "../queue/task-data.js";
import type { EventQueue } from "../queue/event-queue.js";
import type { SessionIssue } from "../store/session-issues.js";
import type { Logger } from "../shared/logger.js";
import type { LoginProbe } from "./probe-login.js";
import type { SessionState, SessionStates } from "../store/session-states.js";

export interface LoginStateOptions {
  sessions: SessionStates;
  events: EventQueue;
  agent: string;
  host: string;
  account: string;
  now: () => number;
  log: Logger;
  probe: () => Promise<LoginProbe>;
  /** This agent's session-timeout issue as the app last recorded it. */
  readIssue: () => Promise<SessionIssue | undefined>;
  /** Called whenever the agent may or may not work because of this. */
  onChange: () => void;
}

/**
 * One agent's Claude login: checked at start and on request, parked as expired when a run
 * says so, with the reporter told so that a person gets a session-timeout issue.
 */
export class LoginState {
  private current: SessionState["state"] = "checking";
  /** The issue closing this agent last acted on, so each close is checked once. */
  private handledClose: number | undefined;

  constructor(private readonly options: LoginStateOptions) {}

  get state(): SessionState["state"] {
    return this.current;
  }

  async expired(message: string, task?: TaskData): Promise<void> {
    const { agent, host, account, now, log } = this.options;
    await this.set("expired", message);
    log.error({ message }, `Claude session expired: run \`claude /login\` on ${host} as this agent's user, then close the session-timeout issue`);
    await this.options.events.emit({
      type: "session-expired",
      agent,
      host,
      account,
      message,
      at: now(),
      ...(task ? { repo: { owner: task.repo.owner, repo: task.repo.name, installationId: task.installationId } } : {}),
    });
  }

  /** Probes the login; on request (issue closed, `ccc resume --agent`) reports the outcome. */
  async verify(why: "start" | "request"): Promise<void> {
    const { agent, now, log, events } = this.options;
    if (why === "request") this.handledClose = (await this.options.readIssue().catch(() => undefined))?.closedAt;
    const wasExpired = this.current === "expired";
    await this.set("checking");
    const probe = await this.options.probe();
    if (!probe.ok) {
      await this.expired(probe.failure.message);
      if (why === "request") await events.emit({ type: "session-verified", agent, ok: false, message: probe.failure.message, at: now() });
      return;
    }
    await this.set("ok");
    if (why === "request" || wasExpired) {
      log.info("Claude login verified: resuming");
      await events.emit({ type: "session-verified", agent, ok: true, at: now() });
    }
  }

  /**
   * The app announces a closed session-timeout issue on the control channel; an agent that
   * was reconnecting then misses it, so the stored issue is looked at too.
   */
  async verifyIfIssueClosed(): Promise<void> {
    const issue = await this.options.readIssue();
    if (!issue || issue.open || issue.closedAt === undefined || issue.closedAt === this.handledClose) return;
    await this.verify("request");
  }

  private async set(state: SessionState["state"], message?: string): Promise<void> {
    this.current = state;
    this.options.onChange();
    await this.options.sessions.set(this.options.agent, { state, ...(message ? { message } : {}), at: this.options.now() });
  }
}
