import type { CiFailure } from "../queue/task-data.js";
import { redactSecrets } from "../shared/redact.js";
import { cleanJobLog } from "./clean-job-log.js";
import type { GitHubClient } from "./github-client.js";
import { httpStatus } from "./github-errors.js";
import type { CheckRunState, CommitStatusState } from "./judge-checks.js";

/** Most failing checks whose details go into one CI-fix prompt; the rest are counted. */
export const MAX_FAILED_CHECKS = 5;
/** Most annotations read per check run, failures first. */
export const MAX_ANNOTATIONS = 20;
/** Caps on one check's texts, in characters: they are written by whoever can push a workflow. */
const CAPS = { title: 300, summary: 3000, text: 4000, annotation: 500 } as const;

/** The failures for the prompt, and how many failing checks did not fit. */
export interface GatheredFailures {
  checks: CiFailure[];
  omitted: number;
}

/**
 * Why a commit's checks failed, for Claude: each failing check run's output and annotations,
 * the tail of a GitHub Actions job's log, and each failing status's description. Every text is
 * hostile (anyone who can push a workflow writes it): capped and redacted here, sanitised again
 * in the prompt. A log or annotations GitHub will not give (expired, no permission) are left out,
 * not fatal: the check's name and output still say something.
 */
export async function fetchCiFailures(
  octokit: GitHubClient,
  ref: { owner: string; repo: string },
  failed: { runs: readonly CheckRunState[]; statuses: readonly CommitStatusState[] },
): Promise<GatheredFailures> {
  const runs = failed.runs.slice(0, MAX_FAILED_CHECKS);
  const statuses = failed.statuses.slice(0, Math.max(0, MAX_FAILED_CHECKS - runs.length));
  const fromRuns = await Promise.all(runs.map((run) => checkRunFailure(octokit, ref, run)));
  const fromStatuses = statuses.map((status): CiFailure => ({
    name: status.context,
    conclusion: status.state,
    ...(status.url ? { url: status.url } : {}),
    ...(status.description ? { summary: cap(status.description, CAPS.summary) } : {}),
    annotations: [],
  }));
  return { checks: [...fromRuns, ...fromStatuses], omitted: failed.runs.length + failed.statuses.length - runs.length - statuses.length };
}

async function checkRunFailure(octokit: GitHubClient, ref: { owner: string; repo: string }, run: CheckRunState): Promise<CiFailure> {
  const [annotations, logTail] = await Promise.all([
    readAnnotations(octokit, ref, run.id),
    run.appSlug === "github-actions" ? readJobLog(octokit, ref, run.id) : Promise.resolve(undefined),
  ]);
  const { title, summary, text } = run.output;
  return {
    name: run.name,
    conclusion: run.conclusion ?? "failure",
    ...(run.url ? { url: run.url } : {}),
    ...(title ? { title: cap(title, CAPS.title) } : {}),
    ...(summary ? { summary: cap(summary, CAPS.summary) } : {}),
    ...(text ? { text: cap(text, CAPS.text) } : {}),
    annotations,
    ...(logTail ? { logTail } : {}),
  };
}

const LEVEL_ORDER: Record<string, number> = { failure: 0, warning: 1, notice: 2 };

async function readAnnotations(octokit: GitHubClient, ref: { owner: string; repo: string }, checkRunId: number): Promise<CiFailure["annotations"]> {
  try {
    const { data } = await octokit.rest.checks.listAnnotations({ ...ref, check_run_id: checkRunId, per_page: 50 });
    return data
      .toSorted((a, b) => (LEVEL_ORDER[a.annotation_level ?? "notice"] ?? 3) - (LEVEL_ORDER[b.annotation_level ?? "notice"] ?? 3))
      .slice(0, MAX_ANNOTATIONS)
      .map((annotation) => ({
        path: cap(annotation.path, 300),
        ...(annotation.start_line ? { line: annotation.start_line } : {}),
        level: annotation.annotation_level ?? "notice",
        message: cap([annotation.title, annotation.message].filter(Boolean).join(": "), CAPS.annotation),
      }));
  } catch (error) {
    if (isUnavailable(error)) return [];
    throw error;
  }
}

/** For a GitHub Actions check run, its id is the job's: GitHub redirects to the log's text. */
async function readJobLog(octokit: GitHubClient, ref: { owner: string; repo: string }, jobId: number): Promise<string | undefined> {
  try {
    const { data } = await octokit.rest.actions.downloadJobLogsForWorkflowRun({ ...ref, job_id: jobId });
    const text = typeof data === "string" ? data : data instanceof ArrayBuffer ? new TextDecoder().decode(data) : "";
    const tail = cleanJobLog(text);
    return tail === "" ? undefined : tail;
  } catch (error) {
    if (isUnavailable(error)) return undefined;
    throw error;
  }
}

/** Gone (logs expire), not allowed (no `actions: read`), or not there: read on without it. */
function isUnavailable(error: unknown): boolean {
  const status = httpStatus(error);
  return status === 403 || status === 404 || status === 410;
}

function cap(text: string, chars: number): string {
  const clean = redactSecrets(text);
  return clean.length <= chars ? clean : `${clean.slice(0, chars)}\n[… cut: ${clean.length - chars} more characters]`;
}
