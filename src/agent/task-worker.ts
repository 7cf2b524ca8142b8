import { Worker } from "bullmq";

/**
 * A BullMQ worker whose jobs the agent fetches itself (`getNextJob` + `processJob`), so one
 * loop can choose across every queue it serves. BullMQ's own loop would fetch each queue on
 * its own and race the others. `startTimers` starts what that loop would have started:
 * renewing the locks of jobs in progress and moving stalled jobs back to their queue.
 */
export class TaskWorker extends Worker {
  async startTimers(): Promise<void> {
    await this.startStalledCheckTimer();
    this.lockManager.start();
  }
}
