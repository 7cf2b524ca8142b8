import { execFileSync } from "node:child_process";
import { APP_USER, type FakePull } from "./github-state.js";
import { pullNodeId } from "./graphql-routes.js";
import { repoPath, json, notFound, validationFailed, type Route, type RouteContext } from "./route.js";

const pullJson = (ctx: RouteContext, pull: FakePull) => ({
  id: pull.number,
  node_id: pullNodeId(ctx.fullName, pull.number),
  number: pull.number,
  title: pull.title,
  body: pull.body,
  state: pull.state,
  draft: pull.draft,
  html_url: `${ctx.htmlBase}/${ctx.fullName}/pull/${pull.number}`,
  user: pull.user ?? APP_USER,
  merged: pull.merged === true,
  merged_at: pull.merged ? new Date().toISOString() : null,
  ...mergeability(ctx, pull),
  head: { label: pull.head, ref: pull.head.slice(pull.head.indexOf(":") + 1), sha: headSha(ctx, pull), repo: { full_name: pull.headRepo ?? ctx.fullName } },
  base: {
    ref: pull.base,
    repo: { full_name: ctx.fullName, default_branch: "main", clone_url: ctx.state.repo(ctx.fullName).origin?.url ?? `https://github.com/${ctx.fullName}.git` },
  },
});

/**
 * Whether the PR merges into its base, computed from the origin with `git merge-tree`, as GitHub
 * does, and like GitHub not at once: the first read after the head or the base moved says null.
 */
function mergeability(ctx: RouteContext, pull: FakePull): { mergeable: boolean | null; mergeable_state: string } {
  const origin = ctx.state.repo(ctx.fullName).origin;
  if (!origin || pull.state !== "open") return { mergeable: pull.state === "open" ? true : null, mergeable_state: pull.state === "open" ? "clean" : "unknown" };
  const rev = (ref: string) => execFileSync("git", ["rev-parse", ref], { cwd: origin.dir, encoding: "utf8" }).trim();
  const head = pull.head.slice(pull.head.indexOf(":") + 1);
  const pair = `${rev(`refs/heads/${head}`)}@${rev(`refs/heads/${pull.base}`)}`;
  if (pull.mergeableComputed !== pair) {
    pull.mergeableComputed = pair;
    return { mergeable: null, mergeable_state: "unknown" };
  }
  try {
    execFileSync("git", ["merge-tree", "--write-tree", `refs/heads/${pull.base}`, `refs/heads/${head}`], { cwd: origin.dir, stdio: "ignore" });
  } catch {
    return { mergeable: false, mergeable_state: "dirty" };
  }
  if (!ctx.state.repo(ctx.fullName).requireUpToDate) return { mergeable: true, mergeable_state: "clean" };
  try {
    execFileSync("git", ["merge-base", "--is-ancestor", `refs/heads/${pull.base}`, `refs/heads/${head}`], { cwd: origin.dir, stdio: "ignore" });
    return { mergeable: true, mergeable_state: "clean" };
  } catch {
    return { mergeable: true, mergeable_state: "behind" };
  }
}

/** The PR's head commit: set by the test, else its branch's tip in the origin, as GitHub tracks it. */
function headSha(ctx: RouteContext, pull: FakePull): string {
  if (pull.headSha) return pull.headSha;
  const origin = ctx.state.repo(ctx.fullName).origin;
  if (!origin) return "0".repeat(40);
  try {
    return execFileSync("git", ["rev-parse", `refs/heads/${pull.head.slice(pull.head.indexOf(":") + 1)}`], { cwd: origin.dir, encoding: "utf8" }).trim();
  } catch {
    return "0".repeat(40);
  }
}

const userJson = (user: { login: string; type: string }) => ({ login: user.login, type: user.type });

/** One page of `items`, as `per_page` and `page` ask (no Link header: tests stay under a page). */
const page = <T>(ctx: RouteContext, items: T[]) => {
  const perPage = Number(ctx.query.get("per_page") ?? 30);
  const number = Number(ctx.query.get("page") ?? 1);
  return items.slice((number - 1) * perPage, number * perPage);
};

/** GitHub takes `head` as `branch` or `owner:branch`; the fake keeps the long form. */
const qualified = (ctx: RouteContext, head: string) => (head.includes(":") ? head : `${ctx.params[0]}:${head}`);

const pullOf = (ctx: RouteContext) => ctx.state.repo(ctx.fullName).pulls.find((p) => p.number === Number(ctx.params[2]));

/** Pull requests: list by head and state, create (one open per head, as GitHub enforces), read, update; reviews and review comments. */
export const pullRoutes: Route[] = [
  {
    method: "GET",
    path: repoPath("/pulls"),
    handle: (ctx) => {
      const head = ctx.query.get("head");
      const state = ctx.query.get("state") ?? "open";
      const found = ctx.state
        .repo(ctx.fullName)
        .pulls.filter((p) => (head === null || p.head === qualified(ctx, head)) && (state === "all" || p.state === state));
      return json(
        200,
        found.slice(0, Number(ctx.query.get("per_page") ?? 30)).map((p) => pullJson(ctx, p)),
      );
    },
  },
  {
    method: "POST",
    path: repoPath("/pulls"),
    handle: (ctx) => {
      const head = qualified(ctx, String(ctx.body.head));
      const repo = ctx.state.repo(ctx.fullName);
      if (repo.pulls.some((p) => p.head === head && p.state === "open")) return validationFailed("PullRequest", `A pull request already exists for ${head}.`);
      const pull: FakePull = {
        number: ctx.state.nextNumber(ctx.fullName),
        title: String(ctx.body.title ?? ""),
        head,
        base: String(ctx.body.base),
        body: String(ctx.body.body ?? ""),
        draft: ctx.body.draft === true,
        state: "open",
      };
      repo.pulls.push(pull);
      return json(201, pullJson(ctx, pull));
    },
  },
  {
    method: "GET",
    path: repoPath("/pulls/(\\d+)"),
    handle: (ctx) => {
      const pull = pullOf(ctx);
      return pull ? json(200, pullJson(ctx, pull)) : notFound();
    },
  },
  {
    // Inline review comments, oldest first.
    method: "GET",
    path: repoPath("/pulls/(\\d+)/comments"),
    handle: (ctx) => {
      const number = Number(ctx.params[2]);
      const all = ctx.state.repo(ctx.fullName).reviewComments.filter((c) => c.pullNumber === number);
      return json(
        200,
        page(ctx, all).map((c) => ({
          id: c.id,
          body: c.body,
          path: c.path,
          line: c.line,
          original_line: c.line,
          in_reply_to_id: c.inReplyTo,
          pull_request_review_id: c.reviewId ?? null,
          user: userJson(c.user),
          created_at: c.createdAt,
        })),
      );
    },
  },
  {
    method: "GET",
    path: repoPath("/pulls/(\\d+)/reviews"),
    handle: (ctx) => {
      const number = Number(ctx.params[2]);
      const all = ctx.state.repo(ctx.fullName).reviews.filter((r) => r.pullNumber === number);
      return json(
        200,
        page(ctx, all).map((r) => ({ id: r.id, body: r.body, state: r.state, user: userJson(r.user), submitted_at: r.submittedAt })),
      );
    },
  },
  {
    method: "PATCH",
    path: repoPath("/pulls/(\\d+)"),
    handle: (ctx) => {
      const pull = pullOf(ctx);
      if (!pull) return notFound();
      for (const field of ["title", "body", "state", "base"] as const) if (ctx.body[field] !== undefined) Object.assign(pull, { [field]: ctx.body[field] });
      return json(200, pullJson(ctx, pull));
    },
  },
];
