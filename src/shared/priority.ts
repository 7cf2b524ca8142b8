import { z } from "zod";

/** Task priorities, most urgent first. */
export const PRIORITIES = ["urgent", "high", "normal", "low"] as const;

export const prioritySchema = z.enum(PRIORITIES);
export type Priority = z.infer<typeof prioritySchema>;

/** BullMQ runs lower numbers first; 0 would mean "no priority" to BullMQ, so start at 1. */
export function bullmqPriority(priority: Priority): number {
  return PRIORITIES.indexOf(priority) + 1;
}
