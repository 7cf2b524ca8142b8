import { InvalidArgumentError } from "commander";
import { agentNameSchema } from "../config/agent-name.js";
import { parseTaskId, type IssueRef } from "../shared/task-id.js";

/*
 * Commander calls these on the text a user typed. A throw is bad usage: commander prints
 * the message after naming the argument or flag, and `ccc` exits 2 before asking Redis.
 */

/** `owner/repo#12`. */
export function taskArgument(text: string): IssueRef {
  const ref = parseTaskId(text);
  if (!ref) throw new InvalidArgumentError("Write a task as owner/repo#number, e.g. octo/hello#12.");
  return ref;
}

/** `ccc tasks --limit`. */
export function limitOption(text: string): number {
  const limit = Number(text);
  if (!/^\d+$/.test(text.trim()) || limit < 1 || limit > 1000) throw new InvalidArgumentError("Write a whole number from 1 to 1000.");
  return limit;
}

/** An agent's name, as `ccc agent --name` accepts it. */
export function agentNameOption(text: string): string {
  const parsed = agentNameSchema.safeParse(text);
  if (!parsed.success) throw new InvalidArgumentError(`An agent name is ${parsed.error.issues[0]?.message ?? "1-64 characters"}.`);
  return parsed.data;
}
