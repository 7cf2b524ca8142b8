import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { appRoutes } from "./fake-github/app-routes.js";
import { checkRoutes } from "./fake-github/check-routes.js";
import { Faults } from "./fake-github/faults.js";
import {
  GitHubState,
  type FakeCheckRun,
  type FakeStatus,
  type FakeComment,
  type FakeDispatch,
  type FakeIssue,
  type FakeMutation,
  type FakePull,
  type FakeReview,
  type FakeReviewComment,
  type FakeRunner,
  type Role,
} from "./fake-github/github-state.js";
import { graphqlRoutes } from "./fake-github/graphql-routes.js";
import { issueRoutes } from "./fake-github/issue-routes.js";
import { pullRoutes } from "./fake-github/pull-routes.js";
import { workflowRoutes } from "./fake-github/workflow-routes.js";
import { notFound, type Reply, type Route } from "./fake-github/route.js";

export type { FakeCheckRun, FakeComment, FakeDispatch, FakeIssue, FakeRunner, FakeMutation, FakePull, FakeReview, FakeReviewComment, FakeStatus, Reply, Role };

export interface LoggedRequest {
  method: string;
  /** Without the `/api/v3` prefix and the query: `/repos/octo-org/hello/pulls`. */
  path: string;
  query: URLSearchParams;
  /** The parsed JSON body of a write, `{}` for none. */
  body: Record<string, any>;
  status: number;
  /** False when no route knows the call: a GitHub call shape the fake is missing. */
  matched: boolean;
  /** Epoch ms the request arrived, and how long its answer took. */
  at: number;
  ms: number;
}

export interface FakeGitHub {
  /** `127.0.0.1:<port>`: GHE_HOST for a Probot app, with GHE_PROTOCOL=http. */
  host: string;
  /** `http://127.0.0.1:<port>`: an Octokit `baseUrl` (the fake serves with and without `/api/v3`). */
  baseUrl: string;
  /** The environment that points a Probot app process here. */
  env: { GHE_HOST: string; GHE_PROTOCOL: "http" };
  /** Every request so far, oldest first. */
  requests: LoggedRequest[];
  /** Request counts by "METHOD /path". */
  counts(): Map<string, number>;
  /** Read the state: each call returns the current values, so they suit `waitFor`. `repo` is `owner/name`. */
  issue(repo: string, number: number): FakeIssue | undefined;
  /** Every issue the fake knows in the repository, by number (session-timeout issues included). */
  issues(repo: string): FakeIssue[];
  comments(repo: string, number: number): FakeComment[];
  labels(repo: string, number: number): string[];
  pulls(repo: string): FakePull[];
  /** Workflow runs cancelled through the API, in order. */
  cancelledRuns(repo: string): number[];
  /** Workflow dispatches accepted (checked against the workflow file's declared inputs), in order. */
  dispatches(repo: string): FakeDispatch[];
  /** The repository's self-hosted runners, as the runners API lists them. */
  setRunners(repo: string, runners: FakeRunner[]): void;
  /** GraphQL mutations received (`enablePullRequestAutoMerge`), oldest first. */
  mutations(): FakeMutation[];
  /** Answer auto-merge requests on the repository with this GraphQL error; undefined enables it again. */
  refuseAutoMerge(repo: string, message: string | undefined): void;
  /** Set the state up. */
  setRole(login: string, role: Role): void;
  /** The issue's title, body, state or GitHub "blocked by" dependencies (`owner/repo#n`); it exists from then on. */
  setIssue(repo: string, number: number, fields: Partial<Omit<FakeIssue, "number">>): FakeIssue;
  /** The app is not installed on `repo`: its issues answer 404. */
  hideRepo(repo: string): void;
  setFile(repo: string, path: string, text: string): void;
  addComment(repo: string, number: number, body: string, user?: FakeComment["user"]): FakeComment;
  /** A pull request someone opened (a fork's: `headRepo`), numbered after the repository's issues and PRs. */
  addPull(repo: string, pull: Omit<FakePull, "number" | "draft" | "state"> & Partial<Pick<FakePull, "state">>): FakePull;
  /** An inline review comment on pull request `number`; `inReplyTo` makes it a reply in that thread. */
  addReviewComment(
    repo: string,
    number: number,
    comment: { body: string; path?: string; line?: number; inReplyTo?: number; reviewId?: number; user?: FakeComment["user"] },
  ): FakeReviewComment;
  /** A submitted review of pull request `number`. */
  addReview(repo: string, number: number, review: { body: string; state: FakeReview["state"]; user?: FakeComment["user"] }): FakeReview;
  /** Branch protection's "require branches to be up to date": a PR behind its base reads `mergeable_state: behind`. */
  requireUpToDate(repo: string, on: boolean): void;
  /** The local bare repository that stands for the repository's git: pull requests' head commits and clone URL come from it. */
  useOrigin(repo: string, origin: { dir: string; url: string }): void;
  /** A check run on commit `headSha`; completed with `conclusion` unless `status` says otherwise. Change its fields to move it on. */
  addCheckRun(repo: string, run: Pick<FakeCheckRun, "headSha" | "name"> & Partial<Omit<FakeCheckRun, "id" | "headSha" | "name">>): FakeCheckRun;
  /** A commit status; the latest per context counts, as on GitHub. */
  addStatus(repo: string, status: FakeStatus): void;
  /** Faults: see Faults in fake-github/faults.ts. */
  outage(options?: { status?: number }): void;
  secondaryRateLimit(options?: { retryAfterSeconds?: number }): void;
  recover(): void;
  failNext(method: string, path: string | RegExp, reply?: Reply, times?: number): void;
  slowWrites(ms: number): void;
  close(): Promise<void>;
}

const ROUTES: Route[] = [...appRoutes, ...issueRoutes, ...pullRoutes, ...checkRoutes, ...graphqlRoutes, ...workflowRoutes];
const RATE_HEADERS = { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4321", "x-ratelimit-resource": "core", "x-ratelimit-used": "679" };

/**
 * A stateful GitHub (Enterprise) REST API on loopback for processes nock cannot reach: the app
 * as a child process, benches. It keeps issues, comments (with every body they had), labels
 * and pull requests, logs every request, and fails on demand.
 */
export async function startFakeGitHub(): Promise<FakeGitHub> {
  const state = new GitHubState();
  const faults = new Faults();
  const requests: LoggedRequest[] = [];
  let htmlBase = "";

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const at = Date.now();
    const url = new URL(req.url ?? "/", "http://fake");
    const path = url.pathname.replace(/^\/api\/v3(?=\/)/, "");
    const method = req.method ?? "GET";
    let text = "";
    for await (const chunk of req) text += String(chunk);
    let body: Record<string, any> = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      // Not JSON: routes see an empty body.
    }
    const route = ROUTES.find((r) => r.method === method && r.path.test(path));
    const entry: LoggedRequest = { method, path, query: url.searchParams, body, status: 0, matched: route !== undefined, at, ms: 0 };
    requests.push(entry);

    const delay = faults.delayMs(method, path);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    let reply = faults.failure(method, path);
    if (!reply && route) {
      const params = route.path.exec(path)!.slice(1);
      reply = route.handle({ state, params, fullName: `${params[0]}/${params[1]}`, query: url.searchParams, body, accept: req.headers.accept ?? "", htmlBase });
    }
    reply ??= notFound();
    entry.status = reply.status;
    entry.ms = Date.now() - at;
    const payload = reply.body === undefined ? "" : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      "content-type": "application/json; charset=utf-8",
      ...RATE_HEADERS,
      ...reply.headers,
      "content-length": Buffer.byteLength(payload),
    });
    res.end(payload);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => res.writeHead(500).end(JSON.stringify({ message: `fake GitHub broke: ${error.message}` })));
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  htmlBase = `http://${host}`;

  return {
    host,
    baseUrl: htmlBase,
    env: { GHE_HOST: host, GHE_PROTOCOL: "http" },
    requests,
    counts: () => {
      const counts = new Map<string, number>();
      for (const r of requests) counts.set(`${r.method} ${r.path}`, (counts.get(`${r.method} ${r.path}`) ?? 0) + 1);
      return counts;
    },
    issue: (repo, number) => state.repo(repo).issues.get(number),
    issues: (repo) => [...state.repo(repo).issues.values()].sort((a, b) => a.number - b.number),
    comments: (repo, number) => state.repo(repo).comments.filter((c) => c.issueNumber === number),
    labels: (repo, number) => [...(state.repo(repo).issues.get(number)?.labels ?? [])],
    pulls: (repo) => [...state.repo(repo).pulls],
    cancelledRuns: (repo) => [...state.repo(repo).cancelledRuns],
    dispatches: (repo) => [...state.repo(repo).dispatches],
    setRunners: (repo, runners) => void (state.repo(repo).runners = [...runners]),
    mutations: () => [...state.mutations],
    refuseAutoMerge: (repo, message) => void (state.repo(repo).autoMergeRefusal = message),
    setRole: (login, role) => void state.roles.set(login.toLowerCase(), role),
    setIssue: (repo, number, fields) => Object.assign(state.issue(repo, number), fields),
    hideRepo: (repo) => void state.hiddenRepos.add(repo),
    setFile: (repo, path, text) => void state.repo(repo).files.set(path, text),
    addComment: (repo, number, body, user = { login: "maintainer", type: "User" }) => state.addComment(repo, number, body, user),
    addPull: (repo, pull) => {
      const added: FakePull = { state: "open", draft: false, ...pull, number: state.nextNumber(repo) };
      state.repo(repo).pulls.push(added);
      return added;
    },
    addReviewComment: (repo, number, comment) => {
      const added: FakeReviewComment = {
        id: state.nextCommentId(),
        pullNumber: number,
        body: comment.body,
        path: comment.path ?? "README.md",
        line: comment.line ?? 1,
        ...(comment.inReplyTo !== undefined ? { inReplyTo: comment.inReplyTo } : {}),
        ...(comment.reviewId !== undefined ? { reviewId: comment.reviewId } : {}),
        user: comment.user ?? { login: "maintainer", type: "User" },
        createdAt: new Date().toISOString(),
      };
      state.repo(repo).reviewComments.push(added);
      return added;
    },
    addReview: (repo, number, review) => {
      const added: FakeReview = {
        id: state.nextCommentId(),
        pullNumber: number,
        body: review.body,
        state: review.state,
        user: review.user ?? { login: "maintainer", type: "User" },
        submittedAt: new Date().toISOString(),
      };
      state.repo(repo).reviews.push(added);
      return added;
    },
    useOrigin: (repo, origin) => void (state.repo(repo).origin = origin),
    requireUpToDate: (repo, on) => void (state.repo(repo).requireUpToDate = on),
    addCheckRun: (repo, run) => {
      const added: FakeCheckRun = {
        status: "completed",
        conclusion: run.status === undefined || run.status === "completed" ? "success" : null,
        appSlug: "github-actions",
        output: {},
        annotations: [],
        ...run,
        id: state.nextCommentId(),
      };
      state.repo(repo).checkRuns.push(added);
      return added;
    },
    addStatus: (repo, status) => void state.repo(repo).statuses.push({ ...status }),
    outage: (options) => faults.outage(options),
    secondaryRateLimit: (options) => faults.secondaryRateLimit(options),
    recover: () => faults.recover(),
    failNext: (method, path, reply, times) => faults.failNext(method, path, reply, times),
    slowWrites: (ms) => faults.slowWrites(ms),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
