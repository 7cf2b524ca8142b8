import type { RedisClient } from "../shared/redis-client.js";
import { z } from "zod";
import { readRetention } from "../queue/retention.js";
import { parseStored } from "../shared/parse-stored.js";
import { formatTaskId, parseTaskId } from "../shared/task-id.js";

/** A task id as the index stores it (JSON), checked on the way back. */
const indexedTaskIdSchema = z.string().refine((id) => parseTaskId(id) !== undefined, "not a task id (owner/repo#n)");

/**
 * Which task opened (or adopted) a pull request: `owner/repo#<pr>` → the task id. The reporter
 * writes it when it opens or reuses the PR, before the task becomes `pr-open`; the app reads it
 * when the PR is closed. A branch name alone could point at a task that has moved on.
 * Each entry lives as long as a finished task record (`CCC_TASK_RETENTION_DAYS`), counted from
 * its last write.
 */
export class PullRequestIndex {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix = "ccc",
    private readonly retentionMs = readRetention().taskMs,
  ) {}

  key(owner: string, repo: string, prNumber: number): string {
    return `${this.prefix}:pr-task:${formatTaskId({ owner, repo, number: prNumber })}`;
  }

  async remember(owner: string, repo: string, prNumber: number, taskId: string): Promise<void> {
    await this.redis.set(this.key(owner, repo, prNumber), JSON.stringify(taskId), "PX", this.retentionMs);
  }

  /** The task that opened the pull request, if the cluster knows it. */
  async lookup(owner: string, repo: string, prNumber: number): Promise<string | undefined> {
    const key = this.key(owner, repo, prNumber);
    const raw = await this.redis.get(key);
    return raw === null ? undefined : parseStored(indexedTaskIdSchema, raw, key);
  }
}
