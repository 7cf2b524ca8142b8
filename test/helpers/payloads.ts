import examples from "@octokit/webhooks-examples";

type Json = Record<string, any>;

/** A copy of a real payload from @octokit/webhooks-examples, picked by event and action. */
export function examplePayload(event: string, action: string): Json {
  const entry = (examples as unknown as Array<{ name: string; examples: Json[] }>).find((e) => e.name === event);
  const example = entry?.examples.find((e) => e.action === action);
  if (!example) throw new Error(`no ${event}.${action} example in @octokit/webhooks-examples`);
  return structuredClone(example);
}

export interface IssuePayloadOptions {
  owner?: string;
  repo?: string;
  number?: number;
  title?: string;
  body?: string;
  labels?: string[];
  cloneUrl?: string;
  sender?: string;
  senderType?: "User" | "Bot";
  installationId?: number;
  comments?: number;
}

/** Points a real example payload at the test's repository, issue and actor. */
export function shapeIssuePayload(payload: Json, options: IssuePayloadOptions): Json {
  const owner = options.owner ?? "octo-org";
  const repo = options.repo ?? "hello";
  payload.repository.name = repo;
  payload.repository.full_name = `${owner}/${repo}`;
  payload.repository.owner.login = owner;
  payload.repository.default_branch = "main";
  payload.repository.clone_url = options.cloneUrl ?? `https://github.com/${owner}/${repo}.git`;
  payload.installation = { id: options.installationId ?? 4242, node_id: "x" };
  payload.issue.number = options.number ?? 7;
  payload.issue.title = options.title ?? "Add a changelog entry";
  payload.issue.body = options.body ?? "Please add a CHANGELOG entry for the new release.";
  payload.issue.state = "open";
  payload.issue.comments = options.comments ?? 0;
  payload.issue.html_url = `https://github.com/${owner}/${repo}/issues/${payload.issue.number}`;
  payload.issue.labels = (options.labels ?? []).map((name, i) => ({
    id: i + 1,
    node_id: `L${i}`,
    url: "",
    name,
    color: "ededed",
    default: false,
    description: null,
  }));
  delete payload.issue.pull_request;
  payload.sender.login = options.sender ?? "maintainer";
  payload.sender.type = options.senderType ?? "User";
  return payload;
}

/** `issues.labeled` with `label` added. */
export function labeledPayload(label: string, options: IssuePayloadOptions = {}): Json {
  const payload = shapeIssuePayload(examplePayload("issues", "labeled"), { ...options, labels: [...(options.labels ?? []), label] });
  payload.label = { id: 99, node_id: "L99", url: "", name: label, color: "ededed", default: false, description: null };
  return payload;
}

/** `issue_comment.created` with `body` as the comment. */
export function commentPayload(body: string, options: IssuePayloadOptions & { commentId?: number } = {}): Json {
  const payload = shapeIssuePayload(examplePayload("issue_comment", "created"), options);
  payload.comment.body = body;
  payload.comment.id = options.commentId ?? 555;
  payload.comment.user.login = options.sender ?? "maintainer";
  payload.comment.user.type = options.senderType ?? "User";
  return payload;
}

/** `issues.closed`, as GitHub sends it when a person closes the issue (the examples have none; reopened differs only in action and state). */
export function closedIssuePayload(number: number, title: string, labels: string[], options: IssuePayloadOptions = {}): Json {
  const payload = shapeIssuePayload(examplePayload("issues", "reopened"), { ...options, number, title, labels });
  payload.action = "closed";
  payload.issue.state = "closed";
  return payload;
}

export interface ClosedPullRequestOptions {
  owner?: string;
  repo?: string;
  /** The PR's head branch, e.g. the task's `claude/issue-7-…`. */
  head?: string;
  merged: boolean;
  /** GitHub's `created_at`. @defaultValue an hour before `closedAt` */
  createdAt?: Date;
  /** GitHub's `closed_at` (and `merged_at` when merged). @defaultValue now */
  closedAt?: Date;
  installationId?: number;
  sender?: string;
}

/** `pull_request.closed` for PR `number`, merged or closed unmerged, from the real example payload. */
export function closedPullRequestPayload(number: number, options: ClosedPullRequestOptions): Json {
  const payload = examplePayload("pull_request", "closed");
  const owner = options.owner ?? "octo-org";
  const repo = options.repo ?? "hello";
  const closedAt = options.closedAt ?? new Date();
  const createdAt = options.createdAt ?? new Date(closedAt.getTime() - 3_600_000);
  payload.number = number;
  payload.repository.name = repo;
  payload.repository.full_name = `${owner}/${repo}`;
  payload.repository.owner.login = owner;
  payload.installation = { id: options.installationId ?? 4242, node_id: "x" };
  const pull = payload.pull_request;
  pull.number = number;
  pull.state = "closed";
  pull.html_url = `https://github.com/${owner}/${repo}/pull/${number}`;
  pull.head.ref = options.head ?? `claude/issue-${number}`;
  pull.head.label = `${owner}:${pull.head.ref}`;
  pull.created_at = createdAt.toISOString();
  pull.closed_at = closedAt.toISOString();
  pull.merged = options.merged;
  pull.merged_at = options.merged ? closedAt.toISOString() : null;
  payload.sender.login = options.sender ?? "maintainer";
  return payload;
}

/** `issue_comment.created` on pull request `options.number`: GitHub sends PR conversation comments as issue comments with `issue.pull_request` set. */
export function pullRequestCommentPayload(body: string, options: IssuePayloadOptions & { commentId?: number } = {}): Json {
  const payload = commentPayload(body, options);
  const { full_name: fullName } = payload.repository;
  payload.issue.html_url = `https://github.com/${fullName}/pull/${payload.issue.number}`;
  payload.issue.pull_request = {
    url: `https://api.github.com/repos/${fullName}/pulls/${payload.issue.number}`,
    html_url: payload.issue.html_url,
    diff_url: `${payload.issue.html_url}.diff`,
    patch_url: `${payload.issue.html_url}.patch`,
    merged_at: null,
  };
  return payload;
}

export interface ReviewPayloadOptions extends IssuePayloadOptions {
  reviewId?: number;
  /** As the webhook spells it. @defaultValue "changes_requested" */
  state?: "changes_requested" | "commented" | "approved";
  headBranch?: string;
}

/** `pull_request_review.submitted` of pull request `options.number`, with `body` as the review's body. */
export function reviewSubmittedPayload(body: string, options: ReviewPayloadOptions = {}): Json {
  const payload = examplePayload("pull_request_review", "submitted");
  const owner = options.owner ?? "octo-org";
  const repo = options.repo ?? "hello";
  const number = options.number ?? 8;
  const sender = options.sender ?? "maintainer";
  payload.repository.name = repo;
  payload.repository.full_name = `${owner}/${repo}`;
  payload.repository.owner.login = owner;
  payload.repository.default_branch = "main";
  payload.repository.clone_url = options.cloneUrl ?? `https://github.com/${owner}/${repo}.git`;
  payload.installation = { id: options.installationId ?? 4242, node_id: "x" };
  payload.sender.login = sender;
  payload.sender.type = options.senderType ?? "User";
  payload.review.id = options.reviewId ?? 777;
  payload.review.body = body;
  payload.review.state = options.state ?? "changes_requested";
  payload.review.user.login = sender;
  payload.review.user.type = options.senderType ?? "User";
  const pr = payload.pull_request;
  pr.number = number;
  pr.title = options.title ?? "Add a changelog entry";
  pr.body = options.body ?? "";
  pr.state = "open";
  pr.labels = [];
  pr.html_url = `https://github.com/${owner}/${repo}/pull/${number}`;
  pr.head.ref = options.headBranch ?? "feature";
  pr.head.repo.full_name = `${owner}/${repo}`;
  pr.base.ref = "main";
  pr.base.repo.full_name = `${owner}/${repo}`;
  return payload;
}

/** `pull_request.reopened` for PR `number`: the closed payload turned back open, as GitHub sends it. */
export function reopenedPullRequestPayload(number: number, options: Omit<ClosedPullRequestOptions, "merged" | "closedAt">): Json {
  const payload = closedPullRequestPayload(number, { ...options, merged: false });
  payload.action = "reopened";
  payload.pull_request.state = "open";
  payload.pull_request.closed_at = null;
  payload.pull_request.merged_at = null;
  return payload;
}

export interface CheckPayloadOptions {
  owner?: string;
  repo?: string;
  installationId?: number;
  /** The pull requests GitHub lists on the check (same-repository ones). */
  pullRequests?: number[];
}

/** Points a real check or status payload at the test's repository. */
function shapeRepository(payload: Json, options: CheckPayloadOptions): Json {
  const owner = options.owner ?? "octo-org";
  const repo = options.repo ?? "hello";
  payload.repository.name = repo;
  payload.repository.full_name = `${owner}/${repo}`;
  payload.repository.owner.login = owner;
  payload.installation = { id: options.installationId ?? 4242, node_id: "x" };
  return payload;
}

const prRefs = (numbers: number[] = []) =>
  numbers.map((number) => ({ number, id: number, url: "", head: { ref: "x", sha: "x", repo: {} }, base: { ref: "main", sha: "x", repo: {} } }));

/** `check_suite.completed` of commit `sha`. */
export function checkSuiteCompletedPayload(sha: string, conclusion: "success" | "failure", options: CheckPayloadOptions = {}): Json {
  const payload = shapeRepository(examplePayload("check_suite", "completed"), options);
  Object.assign(payload.check_suite, { head_sha: sha, status: "completed", conclusion, pull_requests: prRefs(options.pullRequests) });
  return payload;
}

/** `check_run.completed` of commit `sha`, for the check run named `name`. */
export function checkRunCompletedPayload(sha: string, name: string, conclusion: "success" | "failure", options: CheckPayloadOptions = {}): Json {
  const payload = shapeRepository(examplePayload("check_run", "completed"), options);
  Object.assign(payload.check_run, { head_sha: sha, name, status: "completed", conclusion, pull_requests: prRefs(options.pullRequests) });
  return payload;
}

/** `status` of commit `sha` (the Statuses API). */
export function statusPayload(sha: string, context: string, state: "pending" | "success" | "failure" | "error", options: CheckPayloadOptions = {}): Json {
  const entry = (examples as unknown as Array<{ name: string; examples: Json[] }>).find((e) => e.name === "status");
  const payload = shapeRepository(structuredClone(entry!.examples[0]!), options);
  Object.assign(payload, { sha, context, state, description: `${context} ${state}` });
  return payload;
}

/** `push` of `branch` from `before` to `after`. */
export function pushPayload(branch: string, after: string, before: string, options: CheckPayloadOptions = {}): Json {
  const entry = (examples as unknown as Array<{ name: string; examples: Json[] }>).find((e) => e.name === "push");
  const payload = shapeRepository(structuredClone(entry!.examples[0]!), options);
  Object.assign(payload, { ref: `refs/heads/${branch}`, after, before, deleted: false, created: false, forced: false });
  return payload;
}
