import type { TaskRecord } from "../queue/task-record.js";
import { redactSecrets } from "../shared/redact.js";
import { formatStartTime } from "../shared/start-time.js";
import type { TaskState } from "../shared/task-state.js";
import { describeDependsOn } from "./describe-depends-on.js";
import { formatCost, formatDuration } from "./format-duration.js";
import { codeSpan, inlineText, markdownBlock, safeLink } from "./markdown.js";
import { describePrCi } from "../queue/describe-pr-ci.js";
import { outboundTarget, type OutboundTarget } from "./outbound.js";
import { autoMergeLine } from "./render-auto-merge.js";
import { testsLine } from "./render-tests.js";

/** Attempts a retryable failure gets (ARCHITECTURE: network / CLI crash, 3 attempts). */
const DEFAULT_MAX_ATTEMPTS = 3;
/** Claude's answer shown in the comment; GitHub allows 65,536 characters per comment. */
const MAX_ANSWER = 6_000;

const HEADLINES: Record<TaskState, string> = {
  blocked: "🔗 **Blocked**",
  queued: "⏳ **Queued**",
  running: "🏃 **Running**",
  waiting: "⏸️ **Waiting**",
  "pr-open": "✅ **Pull request opened**",
  merged: "🎉 **Pull request merged**",
  closed: "📕 **Pull request closed without merging**",
  "no-changes": "💬 **Answered without changes**",
  failed: "❌ **Failed**",
  cancelled: "🚫 **Cancelled**",
};

/**
 * The hidden first line that identifies our tracking comment for a task, so a comment whose
 * creation looked failed (a 502 after GitHub wrote it) can be found again. A task id is
 * `owner/repo#n`, but dashes are stripped anyway so nothing can close the HTML comment early.
 */
export function trackingMarker(taskId: string): string {
  return `<!-- claude-code-cluster:task ${taskId.replace(/-->|--|[<>]/g, "_")} -->`;
}

/**
 * The one tracking comment of a task, from its record alone. Every free text of the record
 * (Claude's answer and tool, CLI and git messages) goes through the outbound filter. Pure but
 * for the GitHub host, read from the environment (`GHE_HOST`, `GITHUB_SERVER_URL`) unless given.
 */
export function renderTrackingComment(record: TaskRecord, now: number, host?: string): string {
  const target = outboundTarget(record, host);
  const sections = [trackingMarker(record.taskId), statusLine(record, target, now), detailsLine(record, now, target)];
  const ciFix = ciFixLine(record);
  if (ciFix) sections.push(ciFix);
  // Where the pull request stands, once there is one: CI and whether it merges.
  if (record.prCi && record.prNumber !== undefined && (record.state === "pr-open" || record.pullRequest)) {
    sections.push(`**Pull request** ${describePrCi(record.prCi, (name) => codeSpan(name, 80))}`);
  }
  const progress = progressLine(record);
  if (progress) sections.push(progress);
  const capped = cappedLine(record, target);
  if (capped) sections.push(capped);
  const tests = testsLine(record);
  if (tests) sections.push(tests);
  const autoMerge = autoMergeLine(record, target);
  if (autoMerge) sections.push(autoMerge);
  sections.push(...stateSection(record, target));
  const figures = resultFigures(record);
  if (figures) sections.push(figures);
  return sections.join("\n\n") + "\n";
}

function statusLine(record: TaskRecord, task: OutboundTarget, now: number): string {
  const headline = HEADLINES[record.state];
  // `waitingFor` is the app's sentence around CLI or git words; it may name the repository's
  // session-timeout issue. `blockedBy` is the reconciler's own (it names the ops repository's issue).
  const target = { ...task, anyIssueOfRepository: true };
  const waitingFor = (max: number, prefix = "") => (record.waitingFor ? inlineText(`${prefix}${record.waitingFor}`, max, target) : undefined);
  const blockedBy = (max: number) => (record.blockedBy ? inlineText(record.blockedBy, max) : undefined);
  switch (record.state) {
    case "blocked": {
      const waits = describeDependsOn(record);
      if (!waits) return headline;
      const count = record.dependsOn!.open.length + record.dependsOn!.unreadable.length;
      return `${headline} by ${waits}: Claude starts by itself when ${count === 1 ? "it closes" : "they are all closed"}. Comment \`/claude run --force\` to start now anyway.`;
    }
    case "queued": {
      if (record.notBefore !== undefined && record.notBefore > now) {
        const scheduled = `🕑 **Scheduled** for ${formatStartTime(record.notBefore)}`;
        return record.blockedBy ? `${scheduled}; until then, note: ${blockedBy(1_000)}` : scheduled;
      }
      return record.blockedBy ? `${headline}: ${blockedBy(1_000)}` : headline;
    }
    case "waiting": {
      // What the agent said it waits for, then what the cluster sees blocking it now.
      const why = [waitingFor(1_500), blockedBy(1_500)].filter((w): w is string => w !== undefined);
      return why.length > 0 ? `${headline}: ${why.join("; ")}` : headline;
    }
    case "running": {
      // The reconciler's word on a silent agent, or the agent's own on a push it keeps trying.
      const note = blockedBy(500) ?? waitingFor(500, "waiting for ");
      return note ? `${headline} · ⚠️ ${note}` : headline;
    }
    case "pr-open":
      if (record.pullRequest) {
        const commits = record.result?.commits ?? 0;
        return `✅ **Pushed to this pull request**: ${commits} new ${commits === 1 ? "commit" : "commits"} on ${codeSpan(record.branch)}`;
      }
      return record.prNumber !== undefined ? `${headline}: ${safeLink(`#${record.prNumber}`, record.prUrl)}` : headline;
    case "merged":
    case "closed":
      return record.prNumber !== undefined ? `${headline}: ${safeLink(`#${record.prNumber}`, record.prUrl)}` : headline;
    default:
      return headline;
  }
}

function detailsLine(record: TaskRecord, now: number, target: OutboundTarget): string {
  const parts = [
    `**Specialty** ${codeSpan(record.specialty)}`,
    `**priority** ${inlineText(record.priority)}`,
    `**why** ${inlineText(record.reason, 200, target)}`,
  ];
  if (record.agent) parts.push(`**agent** ${codeSpan(record.agent)}`);
  parts.push(`run ${record.run}`);
  if (record.attempt !== undefined && record.attempt > 1) {
    parts.push(`attempt ${record.attempt}/${record.maxAttempts ?? DEFAULT_MAX_ATTEMPTS}`);
  }
  // The attempt continued Claude's earlier session (`--resume`) instead of starting over.
  if (record.resumed) parts.push("resumed session");
  parts.push(elapsed(record, now));
  return parts.join(" · ");
}

function elapsed(record: TaskRecord, now: number): string {
  if (record.state === "queued") return `queued for ${formatDuration(now - record.queuedAt)}`;
  if (record.state === "blocked") return `blocked for ${formatDuration(now - record.queuedAt)}`;
  const start = record.startedAt ?? record.queuedAt;
  const end = record.finishedAt !== undefined && record.state !== "running" && record.state !== "waiting" ? record.finishedAt : now;
  return `elapsed ${formatDuration(end - start)}`;
}

/** A CI-fix or conflict run: which checks it fixes (or which base it merges), and which of its bounded attempts this is. */
function ciFixLine(record: TaskRecord): string | undefined {
  if (record.conflict) {
    const { baseBranch, attempt, maxAttempts, behind } = record.conflict;
    if (behind)
      return `🔀 **Merging ${codeSpan(baseBranch, 120)} in**: the branch is behind it, and the repository wants branches up to date before they merge`;
    return `🔀 **Resolving conflicts** with ${codeSpan(baseBranch, 120)}, attempt ${attempt} of ${maxAttempts}`;
  }
  if (!record.ciFix) return undefined;
  const { checks, attempt, maxAttempts } = record.ciFix;
  const names =
    checks.length > 0
      ? checks
          .slice(0, 5)
          .map((name) => codeSpan(name, 80))
          .join(", ") + (checks.length > 5 ? ` and ${checks.length - 5} more` : "")
      : "the failing checks";
  return `🔧 **Fixing CI**: ${names}, attempt ${attempt} of ${maxAttempts}`;
}

function progressLine(record: TaskRecord): string | undefined {
  if (record.state !== "running" || !record.progress) return undefined;
  const turns = `${record.progress.turns} ${record.progress.turns === 1 ? "turn" : "turns"}`;
  // A code span shows its text literally; only secrets (a token in a Bash command) must go.
  const tool = record.progress.currentTool ? ` · now ${codeSpan(redactSecrets(record.progress.currentTool))}` : "";
  return `**Progress** ${turns}${tool}`;
}

/** What the agent's owner lowered from the repository's settings, and where that is set. */
function cappedLine(record: TaskRecord, target: OutboundTarget): string | undefined {
  if (!record.capped || record.capped.length === 0) return undefined;
  const by = record.agent ? `agent ${codeSpan(record.agent)}` : "the agent";
  return `**Capped by ${by}**: ${inlineText(record.capped.join("; "), 1_500, target)}; the agent's owner sets these on the PC (docs/security.md)`;
}

function stateSection(record: TaskRecord, target: OutboundTarget): string[] {
  switch (record.state) {
    case "no-changes":
      return record.result?.summary ? ["**Claude's answer**", markdownBlock(record.result.summary, MAX_ANSWER, target)] : [];
    case "failed": {
      // The app's own words, naming the cycle's issues: not defanged as Claude's words are.
      if (record.failure?.kind === "dependency-cycle") {
        return [
          `**Reason** ${inlineText(record.failure.message, 1_000)}.`,
          "Remove one of the dependencies and comment `/claude run`, or comment `/claude run --force` to start this issue anyway.",
        ];
      }
      const reason = record.failure ? `**Reason** ${inlineText(record.failure.message, 1_000, target)}` : "**Reason** unknown";
      return [reason, "Comment `/claude retry` to try again."];
    }
    case "merged":
      return record.mergedAt !== undefined && record.finishedAt !== undefined
        ? [`Merged ${formatDuration(Math.max(0, record.mergedAt - record.finishedAt))} after the pull request was opened.`]
        : [];
    case "closed":
      return ["Comment `/claude retry` to have Claude try again."];
    case "cancelled": {
      const why = record.failure?.kind === "cancelled" ? record.failure.message : undefined;
      return why ? [inlineText(why, 500, target)] : [];
    }
    default:
      return [];
  }
}

function resultFigures(record: TaskRecord): string | undefined {
  const result = record.result;
  if (!result) return undefined;
  return [`**Cost** ${formatCost(result.costUsd)}`, `**turns** ${result.turns}`, `**duration** ${formatDuration(result.durationMs)}`].join(" · ");
}
