import { z } from "zod";
import { traceCarrierSchema } from "../telemetry/trace-carrier-schema.js";

/** The one BullMQ queue every reporter event goes through, so each is written to GitHub once. */
export const EVENTS_QUEUE = "events";

/** Every event may name the span it was sent from: the reporter's work on it joins that trace. */
const trace = traceCarrierSchema.optional();

/** Something about a task changed: render its tracking comment and label from the stored record. */
export const taskChangedEventSchema = z.object({
  type: z.literal("task-changed"),
  trace,
  /** `owner/repo#n`. The record is read fresh, so late or reordered events are harmless. */
  taskId: z.string(),
});

/** The agent pushed `record.branch` with commits: open (or reuse) the pull request. */
export const pushedEventSchema = z.object({
  type: z.literal("pushed"),
  trace,
  /** `owner/repo#n`; branch, base, title and summary come from the record. */
  taskId: z.string(),
  /** The run that pushed: a later run of the task is never ended by this event. Absent from older agents. */
  run: z.number().int().min(1).optional(),
});

/** One plain comment that is not the tracking comment: help, refusals, config errors. */
export const replyEventSchema = z.object({
  type: z.literal("reply"),
  trace,
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

/** Labels that are not a task's state label (`claude:ci-failed`), added or taken off an issue or pull request. */
export const labelsEventSchema = z.object({
  type: z.literal("labels"),
  trace,
  installationId: z.number().int(),
  owner: z.string(),
  repo: z.string(),
  issueNumber: z.number().int(),
  add: z.array(z.string().min(1)).default([]),
  remove: z.array(z.string().min(1)).default([]),
  /** Becomes the BullMQ job id: the same key twice changes the labels once. */
  dedupeKey: z.string().min(1).optional(),
});

/** The reactions GitHub accepts on an issue or a comment. */
export const REACTION_CONTENTS = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"] as const;

/**
 * A reaction on a user's comment, or on the issue they labelled: the app's only answer to a
 * `/claude …` comment or a trigger label from a user without write access.
 */
export const reactEventSchema = z
  .object({
    type: z.literal("react"),
    trace,
    /** GitHub App installation to write through. */
    installationId: z.number().int(),
    owner: z.string(),
    repo: z.string(),
    /** The issue: it gets the reaction when no comment is named. (Optional only for events queued before it existed.) */
    issueNumber: z.number().int().optional(),
    /** The issue comment that gets the reaction; without it, the issue itself does. */
    commentId: z.number().int().optional(),
    content: z.enum(REACTION_CONTENTS),
  })
  .refine((event) => event.commentId !== undefined || event.issueNumber !== undefined, {
    message: "a react event names the comment or the issue that gets the reaction",
  });

/** An agent's Claude login failed: open (once) a session-timeout issue for it. */
export const sessionExpiredEventSchema = z.object({
  type: z.literal("session-expired"),
  trace,
  /** Agent name; one open session-timeout issue per agent. */
  agent: z.string(),
  host: z.string(),
  account: z.string(),
  /** What the CLI said, e.g. "Not logged in · Please run /login". */
  message: z.string(),
  /** Epoch ms when the agent found out. */
  at: z.number(),
  /** The task's repository; the issue goes there unless the app has an ops repository. */
  repo: z.object({ owner: z.string(), repo: z.string(), installationId: z.number().int() }).optional(),
});

/** The agent checked its login after its issue was closed (or `ccc resume --agent`). */
export const sessionVerifiedEventSchema = z.object({
  type: z.literal("session-verified"),
  trace,
  agent: z.string(),
  /** True: resumed, say so and forget the issue. False: reopen it with `message`. */
  ok: z.boolean(),
  message: z.string().optional(),
  at: z.number(),
});

export const reporterEventSchema = z.discriminatedUnion("type", [
  taskChangedEventSchema,
  pushedEventSchema,
  replyEventSchema,
  labelsEventSchema,
  reactEventSchema,
  sessionExpiredEventSchema,
  sessionVerifiedEventSchema,
]);

export type TaskChangedEvent = z.infer<typeof taskChangedEventSchema>;
export type PushedEvent = z.infer<typeof pushedEventSchema>;
export type ReplyEvent = z.infer<typeof replyEventSchema>;
export type ReactEvent = z.infer<typeof reactEventSchema>;
export type LabelsEvent = z.infer<typeof labelsEventSchema>;
export type SessionExpiredEvent = z.infer<typeof sessionExpiredEventSchema>;
export type SessionVerifiedEvent = z.infer<typeof sessionVerifiedEventSchema>;
export type ReporterEvent = z.infer<typeof reporterEventSchema>;
