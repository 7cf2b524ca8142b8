export type Role = "admin" | "maintain" | "write" | "triage" | "read" | "none";

export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  labels: string[];
  /**
   * GitHub's own "blocked by" dependencies, `owner/repo#n`: GET …/dependencies/blocked_by lists
   * them, and the issue's `issue_dependencies_summary` counts the open ones. Unset: the fake
   * answers as a GitHub without issue dependencies (no summary, 404 on the list).
   */
  blockedBy?: string[];
}

export interface FakeComment {
  id: number;
  issueNumber: number;
  body: string;
  /** Every body the comment ever had, oldest first: the tracking comment's history. */
  bodies: string[];
  user: { login: string; type: "Bot" | "User" };
  createdAt: string;
}

export interface FakePull {
  number: number;
  title: string;
  /** `owner:branch`, as GitHub's `head` filter spells it. */
  head: string;
  base: string;
  body: string;
  draft: boolean;
  state: "open" | "closed";
  /** `owner/name` of the head's repository when it is a fork. @defaultValue the repository itself */
  headRepo?: string;
  merged?: boolean;
  /** The head@base pair GitHub last computed mergeability for (the fake answers null once per pair). */
  mergeableComputed?: string;
  /** The head commit. @defaultValue the branch's tip in the repository's origin (`useOrigin`), else forty zeros */
  headSha?: string;
  /** Who opened it. @defaultValue the app */
  user?: FakeComment["user"];
  /** Set by the GraphQL `enablePullRequestAutoMerge` mutation: GitHub would merge it once its checks pass. */
  autoMerge?: { mergeMethod: string };
}

/** One GraphQL mutation the fake answered, in order: its name and variables. */
export interface FakeMutation {
  name: string;
  variables: Record<string, unknown>;
}

/** An inline review comment on a pull request's diff. */
export interface FakeReviewComment {
  id: number;
  pullNumber: number;
  body: string;
  path: string;
  line: number;
  /** The first comment of the thread this one answers. */
  inReplyTo?: number;
  /** The review it was submitted with. */
  reviewId?: number;
  user: FakeComment["user"];
  createdAt: string;
}

/** A check run of a commit, as GitHub Actions (`appSlug: github-actions`) or another app reports it. */
export interface FakeCheckRun {
  id: number;
  headSha: string;
  name: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: "success" | "failure" | "timed_out" | "cancelled" | "skipped" | "neutral" | "action_required" | null;
  appSlug: string;
  output: { title?: string; summary?: string; text?: string };
  annotations: { path: string; line: number; level: "failure" | "warning" | "notice"; message: string; title?: string }[];
  /** The job's raw log (timestamps, colour codes and all), served by the Actions job-log route. */
  log?: string;
}

/** A commit status (the Statuses API). */
export interface FakeStatus {
  sha: string;
  context: string;
  state: "pending" | "success" | "failure" | "error";
  description?: string;
}

/** A submitted review of a pull request. */
export interface FakeReview {
  id: number;
  pullNumber: number;
  body: string;
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED";
  user: FakeComment["user"];
  submittedAt: string;
}

/** A self-hosted runner as the runners API lists it. */
export interface FakeRunner {
  id: number;
  name: string;
  os: string;
  status: string;
  busy: boolean;
  labels: { id: number; name: string; type: string }[];
}

/** A `workflow_dispatch` GitHub accepted: the workflow file, the ref and the inputs. */
export interface FakeDispatch {
  workflow: string;
  ref: string;
  inputs: Record<string, string>;
}

export interface FakeRepo {
  issues: Map<number, FakeIssue>;
  comments: FakeComment[];
  pulls: FakePull[];
  reviewComments: FakeReviewComment[];
  reviews: FakeReview[];
  /** File contents on the default branch, by path (`.github/claude-cluster.yml`). */
  files: Map<string, string>;
  /** Repository labels created with POST /repos/:o/:r/labels. */
  labels: Set<string>;
  /** Workflow runs cancelled with POST /repos/:o/:r/actions/runs/:id/cancel, in order. */
  cancelledRuns: number[];
  /** Runners GET /repos/:o/:r/actions/runners lists, as GitHub shapes them. */
  runners: FakeRunner[];
  /** Workflow dispatches GitHub accepted, in order. */
  dispatches: FakeDispatch[];
  checkRuns: FakeCheckRun[];
  statuses: FakeStatus[];
  /** Branch protection asks for branches up to date with their base: a PR behind it is `behind`, not `clean`. */
  requireUpToDate?: boolean;
  /** The local bare repository standing in for the repository's git: PR heads are read from it. */
  origin?: { dir: string; url: string };
  /**
   * What GitHub answers `enablePullRequestAutoMerge` with, as a GraphQL error, instead of enabling
   * it: "Auto merge is not allowed for this repository", "Pull request is in clean status".
   */
  autoMergeRefusal?: string;
}

/** The user the app's own writes are attributed to. */
export const APP_USER = { login: "ccc-test[bot]", type: "Bot" } as const;

/** Everything the fake GitHub remembers, by `owner/repo`. */
export class GitHubState {
  readonly repos = new Map<string, FakeRepo>();
  /** Collaborator roles by login; anyone else has `defaultRole`. */
  readonly roles = new Map<string, Role>();
  defaultRole: Role = "write";
  /** `owner/repo` names the app is not installed on: their issues answer 404. */
  readonly hiddenRepos = new Set<string>();
  /** What GET /repos/:o/:r/installation answers for every repository. */
  installationId = 4242;
  /** GraphQL mutations received, oldest first. */
  readonly mutations: FakeMutation[] = [];
  private lastCommentId = 1000;

  repo(fullName: string): FakeRepo {
    let repo = this.repos.get(fullName);
    if (!repo) {
      repo = {
        issues: new Map(),
        comments: [],
        pulls: [],
        reviewComments: [],
        reviews: [],
        files: new Map(),
        labels: new Set(),
        cancelledRuns: [],
        runners: [],
        dispatches: [],
        checkRuns: [],
        statuses: [],
      };
      this.repos.set(fullName, repo);
    }
    return repo;
  }

  /** The issue, created on first touch: webhooks name issues the fake was never told about. */
  issue(fullName: string, number: number): FakeIssue {
    const repo = this.repo(fullName);
    let issue = repo.issues.get(number);
    if (!issue) {
      issue = { number, title: `Issue #${number}`, body: "", state: "open", labels: [] };
      repo.issues.set(number, issue);
    }
    return issue;
  }

  /** Issues and pull requests share one sequence of numbers, as on GitHub. */
  nextNumber(fullName: string): number {
    const repo = this.repo(fullName);
    return Math.max(0, ...repo.issues.keys(), ...repo.pulls.map((p) => p.number)) + 1;
  }

  addComment(fullName: string, issueNumber: number, body: string, user: FakeComment["user"] = APP_USER): FakeComment {
    this.issue(fullName, issueNumber);
    const comment = { id: ++this.lastCommentId, issueNumber, body, bodies: [body], user: { ...user }, createdAt: new Date().toISOString() };
    this.repo(fullName).comments.push(comment);
    return comment;
  }

  /** Ids for review comments and reviews, from the same sequence as issue comments (unique, like GitHub's). */
  nextCommentId(): number {
    return ++this.lastCommentId;
  }

  findComment(fullName: string, id: number): FakeComment | undefined {
    return this.repo(fullName).comments.find((c) => c.id === id);
  }

  role(login: string): Role {
    return this.roles.get(login.toLowerCase()) ?? this.defaultRole;
  }
}
