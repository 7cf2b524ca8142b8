import type { TaskRecord } from "../queue/task-record.js";
import { describeDependsOn } from "../reporter/describe-depends-on.js";
import { codeSpan, inlineText } from "../reporter/markdown.js";
import { outboundTarget } from "../reporter/outbound.js";
import { formatStartTime } from "../shared/start-time.js";

/**
 * The answer to `/claude status`. What the agent and the CLI wrote (the waiting note, the
 * failure reason, which may quote Claude or git) goes through the outbound filter, as on the
 * tracking comment: no secret, no outside image or link, no mention, no other issue's backlink.
 */
export function statusReply(record: TaskRecord | undefined, on: "issue" | "pull-request" = "issue", now = Date.now()): string {
  if (!record && on === "pull-request") return "Claude has not worked on this pull request yet. Comment `/claude run <what to change>` to start.";
  if (!record) return "Claude has not worked on this issue yet. Comment `/claude run` or add the `claude` label to start.";
  const target = outboundTarget(record);
  const parts = [
    `Claude task on this ${record.pullRequest ? "pull request" : "issue"}: **${record.state}** (run ${record.run}, ${codeSpan(record.specialty)}, ${record.priority} priority).`,
  ];
  if (record.state === "queued" && record.notBefore !== undefined && record.notBefore > now) parts.push(`Scheduled for ${formatStartTime(record.notBefore)}.`);
  const waits = record.state === "blocked" ? describeDependsOn(record) : undefined;
  if (waits) parts.push(`Waits for ${waits} to close (\`/claude run --force\` starts it now).`);
  if (record.agent) parts.push(`Agent: ${codeSpan(record.agent)}.`);
  if (record.blockedBy) parts.push(`Blocked: ${inlineText(record.blockedBy, 1_000)}.`);
  if (record.waitingFor) parts.push(`Waiting for ${inlineText(record.waitingFor, 1_000, target)}.`);
  if (record.prUrl) parts.push(`Pull request: ${record.prUrl}`);
  if (record.failure) parts.push(`Reason: ${inlineText(record.failure.message, 1_000, target)}`);
  return parts.join(" ");
}
