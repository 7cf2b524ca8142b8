import { z } from "zod";

/** The one BullMQ queue every reporter event goes through, so each is written to GitHub once. */
export const EVENTS_QUEUE = "events";

/** Something about a task changed: render its tracking comment and label from the stored record. */
export const taskChangedEventSchema = z.object({
  type: z.literal("task-changed"),
  /** `owner/repo#n`. The record is read fresh, so late or reordered events are harmless. */
  taskId: z.string(),
});

/** The agent pushed `record.branch` with commits: open (or reuse) the pull request. */
export const pushedEventSchema = z.object({
  type: z.literal("pushed"),
  /** `owner/repo#n`; branch, base, title and summary come from the record. */
  taskId: z.string(),
});

/** One plain comment that is not the tracking comment: help, refusals, config errors. */
export const replyEventSchema = z.object({
  type: z.literal("reply"),
  /** GitHub App installation to write through. */
  installationId: z.number().int(),
  owner: z.string(),
  repo: z.string(),
  issueNumber: z.number().int(),
  /** Markdown written by the app itself, posted as is. */
  body: z.string().min(1),
  /** Becomes the BullMQ job id: the same key twice (a redelivered webhook) posts once. */
  dedupeKey: z.string().min(1).optional(),
});

export const reporterEventSchema = z.discriminatedUnion("type", [taskChangedEventSchema, pushedEventSchema, replyEventSchema]);

export type TaskChangedEvent = z.infer<typeof taskChangedEventSchema>;
export type PushedEvent = z.infer<typeof pushedEventSchema>;
export type ReplyEvent = z.infer<typeof replyEventSchema>;
export type ReporterEvent = z.infer<typeof reporterEventSchema>;
