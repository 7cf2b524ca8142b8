import type { TaskRecord } from "../queue/task-record.js";

/** The answer to `/claude status`. */
export function statusReply(record: TaskRecord | undefined): string {
  if (!record) return "Claude has not worked on this issue yet. Comment `/claude run` or add the `claude` label to start.";
  const parts = [`Claude task on this issue: **${record.state}** (run ${record.run}, ${record.specialty}, ${record.priority} priority).`];
  if (record.agent) parts.push(`Agent: ${record.agent}.`);
  if (record.waitingFor) parts.push(`Waiting for ${record.waitingFor}.`);
  if (record.prUrl) parts.push(`Pull request: ${record.prUrl}`);
  if (record.failure) parts.push(`Reason: ${record.failure.message}`);
  return parts.join(" ");
}
