import type { RedisClient } from "../shared/redis-client.js";
import { z } from "zod";
import { parseStored } from "../shared/parse-stored.js";

/** Where an agent's session-timeout issue lives. */
export interface SessionIssue {
  owner: string;
  repo: string;
  number: number;
  installationId: number;
  open: boolean;
  /** Epoch ms when a person last closed it: the agent checks its login once per close. */
  closedAt?: number;
}

const sessionIssueSchema = z.object({
  owner: z.string(),
  repo: z.string(),
  number: z.number(),
  installationId: z.number(),
  open: z.boolean(),
  closedAt: z.number().optional(),
}) satisfies z.ZodType<SessionIssue>;

export const sessionIssueKey = (prefix: string, agent: string) => `${prefix}:session-issue:${agent}`;
/** Reverse lookup for the app: which agent a closed session-timeout issue belongs to. */
export const sessionIssueAgentKey = (prefix: string, owner: string, repo: string, number: number) => `${prefix}:session-issue-agent:${owner}/${repo}#${number}`;

export async function readSessionIssue(redis: RedisClient, prefix: string, agent: string): Promise<SessionIssue | undefined> {
  const key = sessionIssueKey(prefix, agent);
  const raw = await redis.get(key);
  return raw ? parseStored(sessionIssueSchema, raw, key) : undefined;
}

export async function writeSessionIssue(redis: RedisClient, prefix: string, agent: string, issue: SessionIssue): Promise<void> {
  await redis
    .multi()
    .set(sessionIssueKey(prefix, agent), JSON.stringify(issue))
    .set(sessionIssueAgentKey(prefix, issue.owner, issue.repo, issue.number), agent)
    .exec();
}

/** Forgets the agent's issue once its login works again. */
export async function deleteSessionIssue(redis: RedisClient, prefix: string, agent: string, issue: SessionIssue): Promise<void> {
  await redis.del(sessionIssueKey(prefix, agent), sessionIssueAgentKey(prefix, issue.owner, issue.repo, issue.number));
}
