import type { TaskRecord } from "../queue/task-record.js";
import { issueMention, parseTaskId } from "../shared/task-id.js";
import { inlineText } from "./markdown.js";

/**
 * Pure: the issues a blocked task waits for, as its issue names them (`#40`,
 * `other/repo#3 (the app cannot read it…)`); undefined when the record names none. Only
 * well-formed issue ids are written as they are; anything else goes through `inlineText`.
 */
export function describeDependsOn(record: Pick<TaskRecord, "owner" | "repo" | "dependsOn">): string | undefined {
  const dependsOn = record.dependsOn;
  if (!dependsOn || dependsOn.open.length + dependsOn.unreadable.length === 0) return undefined;
  const mention = (id: string) => (parseTaskId(id) ? issueMention(id, record) : inlineText(id, 120));
  return [
    ...dependsOn.open.map(mention),
    ...dependsOn.unreadable.map((id) => `${mention(id)} (the app cannot read it: install the app on that repository, or fix the reference)`),
  ].join(", ");
}
