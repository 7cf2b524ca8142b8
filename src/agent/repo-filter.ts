import { DelayedError, type Job } from "bullmq";
import type { TaskData } from "../queue/task-data.js";
import type { Logger } from "../shared/logger.js";
import { servesRepo } from "../shared/serves-repo.js";

/** How long a task of a repository this agent does not serve is set aside, so a lone agent does not fetch it in a loop. */
const NOT_SERVED_DELAY_MS = 5_000;

/**
 * The agent owner's `--repos`: a task from any other repository is set aside for another
 * agent, no attempt spent and no Claude run. Delayed, not waiting, or a lone agent would
 * fetch it again at once. Each task is logged once (up to a thousand remembered).
 */
export class RepoFilter {
  private readonly logged = new Set<string>();

  constructor(
    private readonly repos: readonly string[] | undefined,
    private readonly log: Logger,
  ) {}

  /** Throws DelayedError (the job set aside) when the task's repository is not served; returns otherwise. */
  async admit(job: Job, token: string | undefined, data: TaskData): Promise<void> {
    if (servesRepo(this.repos, data.repo.owner, data.repo.name)) return;
    if (!this.logged.has(data.taskId)) {
      if (this.logged.size >= 1_000) this.logged.clear();
      this.logged.add(data.taskId);
      this.log.info({ taskId: data.taskId, repos: this.repos }, "task's repository is not in this agent's --repos: left for another agent");
    }
    await job.moveToDelayed(Date.now() + NOT_SERVED_DELAY_MS, token);
    throw new DelayedError();
  }
}
