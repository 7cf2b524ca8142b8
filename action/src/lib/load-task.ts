import { fetchCommentsUpTo } from "../../../src/github/fetch-comments.js";
import { DEFAULT_REPO_CONFIG } from "../../../src/config/repo-config.js";
import type { TaskData } from "../../../src/queue/task-data.js";
import { newTaskRecord } from "../../../src/queue/task-factory.js";
import type { TaskRecord } from "../../../src/queue/task-record.js";
import type { GitHubClient } from "../../../src/github/github-client.js";
import { GENERAL } from "../../../src/shared/specialty.js";
import { branchName } from "../../../src/workspace/branch-name.js";
import type { ActionInputs } from "../inputs.js";
import type { JobContext } from "./job-context.js";

/** The repository config's built-in tool list, for a job started without `allowed-tools`. */
const DEFAULT_TOOLS = DEFAULT_REPO_CONFIG.allowedTools;

export interface LoadedTask {
  data: TaskData;
  record: TaskRecord;
}

/**
 * The task as the daemon would have it: the issue and its human comments read from GitHub,
 * settings from the inputs (the dispatcher fills them from the task's signed settings), the branch named as the cluster names it.
 */
export async function loadTask(octokit: GitHubClient, inputs: ActionInputs, job: JobContext, now: number): Promise<LoadedTask> {
  const number = inputs["issue-number"];
  const [{ data: issue }, { data: repository }, comments] = await Promise.all([
    octokit.rest.issues.get({ owner: job.owner, repo: job.repo, issue_number: number }),
    octokit.rest.repos.get({ owner: job.owner, repo: job.repo }),
    fetchCommentsUpTo(octokit, { owner: job.owner, repo: job.repo, issueNumber: number }),
  ]);
  const taskId = inputs["task-id"] ?? `${job.owner}/${job.repo}#${number}`;
  const specialty = inputs.specialty ?? GENERAL;
  const branch = branchName(number, issue.title);
  const reason = `dispatched to the self-hosted runner ${job.RUNNER_NAME}`;
  const data: TaskData = {
    taskId,
    run: inputs.run,
    repo: { owner: job.owner, name: job.repo, cloneUrl: repository.clone_url, defaultBranch: repository.default_branch },
    installationId: 0,
    issue: { number, title: issue.title, body: issue.body ?? "", url: issue.html_url, author: issue.user?.login ?? "ghost" },
    comments,
    specialty,
    priority: "normal",
    reason,
    trigger: { kind: "label", actor: process.env.GITHUB_ACTOR ?? "github-actions", deliveryId: job.GITHUB_RUN_ID },
    branch,
    settings: {
      ...(inputs.model ? { model: inputs.model } : {}),
      maxTurns: inputs["max-turns"],
      timeoutMinutes: inputs["timeout-minutes"],
      allowedTools: inputs["allowed-tools"] ?? DEFAULT_TOOLS,
      permissionMode: inputs["permission-mode"] ?? "acceptEdits",
      draftPullRequest: inputs["draft-pull-request"],
      ...(inputs.role ? { role: inputs.role } : {}),
    },
    createdAt: now,
  };
  // The record as a daemon's run has it once an agent took the task (task-factory).
  const record: TaskRecord = {
    ...newTaskRecord(data, "actions"),
    run: inputs.run,
    state: "running",
    jobId: job.GITHUB_RUN_ID,
    agent: `runner ${job.RUNNER_NAME}`,
    startedAt: now,
    version: 1,
  };
  return { data, record };
}
