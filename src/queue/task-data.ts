import { z } from "zod";
import { prioritySchema } from "../shared/priority.js";
import { specialtySchema } from "../shared/specialty.js";

/**
 * What a task carries through Redis. BullMQ stores job data in clear text, so nothing
 * secret goes in here: no tokens, no keys. Agents push with their own git credentials.
 */
export const taskDataSchema = z.object({
  /** `owner/repo#n`; one live task per issue. */
  taskId: z.string(),
  /** Increments each time the issue is handed to Claude again; part of the BullMQ job id. */
  run: z.number().int().min(1),
  repo: z.object({
    owner: z.string(),
    name: z.string(),
    /** URL the agent clones and pushes to with its machine's git credentials. */
    cloneUrl: z.string(),
    defaultBranch: z.string(),
  }),
  /** GitHub App installation that the reporter writes through. */
  installationId: z.number().int(),
  issue: z.object({
    number: z.number().int(),
    title: z.string(),
    body: z.string(),
    url: z.string(),
    author: z.string(),
  }),
  /** Issue comments up to the trigger, oldest first. */
  comments: z.array(z.object({ author: z.string(), body: z.string(), createdAt: z.string() })),
  specialty: specialtySchema,
  priority: prioritySchema,
  /** Why the router chose the specialty, shown in the tracking comment. */
  reason: z.string(),
  trigger: z.object({
    kind: z.enum(["label", "comment"]),
    actor: z.string(),
    deliveryId: z.string(),
  }),
  /** `claude/issue-<n>-<slug>`, stable across retries so a rerun continues the same branch. */
  branch: z.string(),
  settings: z.object({
    model: z.string().optional(),
    maxTurns: z.number().int(),
    timeoutMinutes: z.number().int(),
    allowedTools: z.array(z.string()),
    permissionMode: z.string(),
    draftPullRequest: z.boolean(),
    /** Extra role text for the specialty from the repo config. */
    role: z.string().optional(),
  }),
  createdAt: z.number(),
  /** Epoch ms before which no agent starts the task (`/claude run at <time>` or `in <duration>`). */
  notBefore: z.number().optional(),
});

export type TaskData = z.infer<typeof taskDataSchema>;
