import { APP_USER, type FakeComment, type FakeIssue } from "./github-state.js";
import { repoPath, json, notFound, validationFailed, type Route, type RouteContext } from "./route.js";

const issueJson = (ctx: RouteContext, issue: FakeIssue, fullName = ctx.fullName) => ({
  id: issue.number,
  number: issue.number,
  title: issue.title,
  body: issue.body,
  state: issue.state,
  labels: labelsJson(issue.labels),
  html_url: `${ctx.htmlBase}/${fullName}/issues/${issue.number}`,
  repository_url: `${ctx.htmlBase}/api/v3/repos/${fullName}`,
  user: { login: "maintainer", type: "User" },
  ...(issue.blockedBy ? { issue_dependencies_summary: dependencySummary(ctx, issue.blockedBy) } : {}),
});

/** The blockers named `owner/repo#n`, each with its repository's name and the fake's issue. */
const blockersOf = (ctx: RouteContext, blockedBy: string[]) =>
  blockedBy.map((id) => {
    const [fullName, number] = id.split("#") as [string, string];
    return { fullName, issue: ctx.state.issue(fullName, Number(number)) };
  });

const dependencySummary = (ctx: RouteContext, blockedBy: string[]) => {
  const open = blockersOf(ctx, blockedBy).filter((b) => b.issue.state === "open").length;
  return { blocked_by: open, total_blocked_by: blockedBy.length, blocking: 0, total_blocking: 0 };
};

const commentJson = ({ htmlBase, fullName }: RouteContext, comment: FakeComment) => ({
  id: comment.id,
  body: comment.body,
  user: comment.user,
  created_at: comment.createdAt,
  html_url: `${htmlBase}/${fullName}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
});

const labelsJson = (names: string[]) => names.map((name, i) => ({ id: i + 1, name, color: "ededed" }));

const issueOf = (ctx: RouteContext) => ctx.state.issue(ctx.fullName, Number(ctx.params[2]));

/** Issues, their comments and their labels. Issues named in a path exist from first touch. */
export const issueRoutes: Route[] = [
  {
    method: "POST",
    path: repoPath("/issues"),
    handle: (ctx) => {
      const issue = ctx.state.issue(ctx.fullName, ctx.state.nextNumber(ctx.fullName));
      Object.assign(issue, { title: String(ctx.body.title ?? ""), body: String(ctx.body.body ?? ""), labels: [...(ctx.body.labels ?? [])] });
      return json(201, issueJson(ctx, issue));
    },
  },
  {
    method: "GET",
    path: repoPath("/issues/(\\d+)"),
    handle: (ctx) => (ctx.state.hiddenRepos.has(ctx.fullName) ? notFound() : json(200, issueJson(ctx, issueOf(ctx)))),
  },
  {
    // GitHub's issue dependencies; a GitHub (Enterprise) without them answers 404.
    method: "GET",
    path: repoPath("/issues/(\\d+)/dependencies/blocked_by"),
    handle: (ctx) => {
      const blockedBy = issueOf(ctx).blockedBy;
      if (!blockedBy) return notFound();
      return json(
        200,
        blockersOf(ctx, blockedBy).map((b) => issueJson(ctx, b.issue, b.fullName)),
      );
    },
  },
  {
    method: "PATCH",
    path: repoPath("/issues/(\\d+)"),
    handle: (ctx) => {
      const issue = issueOf(ctx);
      for (const field of ["title", "body", "state"] as const) if (ctx.body[field] !== undefined) Object.assign(issue, { [field]: ctx.body[field] });
      if (Array.isArray(ctx.body.labels)) issue.labels = ctx.body.labels.map((l: string | { name: string }) => (typeof l === "string" ? l : l.name));
      return json(200, issueJson(ctx, issue));
    },
  },
  {
    method: "GET",
    path: repoPath("/issues/(\\d+)/comments"),
    handle: (ctx) => {
      const number = issueOf(ctx).number;
      const all = ctx.state.repo(ctx.fullName).comments.filter((c) => c.issueNumber === number);
      const perPage = Number(ctx.query.get("per_page") ?? 30);
      const page = Number(ctx.query.get("page") ?? 1);
      return json(
        200,
        all.slice((page - 1) * perPage, page * perPage).map((c) => commentJson(ctx, c)),
      );
    },
  },
  {
    method: "POST",
    path: repoPath("/issues/(\\d+)/comments"),
    handle: (ctx) => json(201, commentJson(ctx, ctx.state.addComment(ctx.fullName, issueOf(ctx).number, String(ctx.body.body), APP_USER))),
  },
  {
    method: "PATCH",
    path: repoPath("/issues/comments/(\\d+)"),
    handle: (ctx) => {
      const comment = ctx.state.findComment(ctx.fullName, Number(ctx.params[2]));
      if (!comment) return notFound();
      comment.body = String(ctx.body.body);
      comment.bodies.push(comment.body);
      return json(200, commentJson(ctx, comment));
    },
  },
  {
    method: "DELETE",
    path: repoPath("/issues/comments/(\\d+)"),
    handle: (ctx) => {
      const repo = ctx.state.repo(ctx.fullName);
      const index = repo.comments.findIndex((c) => c.id === Number(ctx.params[2]));
      if (index < 0) return notFound();
      repo.comments.splice(index, 1);
      return json(204);
    },
  },
  {
    // Reactions are not remembered: tests read them from the request log.
    method: "POST",
    path: repoPath("/issues/comments/(\\d+)/reactions"),
    handle: (ctx) => json(201, { id: 1, content: String(ctx.body.content), user: APP_USER }),
  },
  {
    // On the issue itself (a trigger label from a user without write access); not remembered either.
    method: "POST",
    path: repoPath("/issues/(\\d+)/reactions"),
    handle: (ctx) => json(201, { id: 2, content: String(ctx.body.content), user: APP_USER }),
  },
  { method: "GET", path: repoPath("/issues/(\\d+)/labels"), handle: (ctx) => json(200, labelsJson(issueOf(ctx).labels)) },
  {
    method: "POST",
    path: repoPath("/issues/(\\d+)/labels"),
    handle: (ctx) => {
      const issue = issueOf(ctx);
      for (const name of ctx.body.labels ?? []) if (!issue.labels.includes(name)) issue.labels.push(name);
      return json(200, labelsJson(issue.labels));
    },
  },
  {
    method: "PUT",
    path: repoPath("/issues/(\\d+)/labels"),
    handle: (ctx) => {
      const issue = issueOf(ctx);
      issue.labels = [...new Set<string>(ctx.body.labels ?? [])];
      return json(200, labelsJson(issue.labels));
    },
  },
  {
    method: "DELETE",
    path: repoPath("/issues/(\\d+)/labels/([^/]+)"),
    handle: (ctx) => {
      const issue = issueOf(ctx);
      const name = decodeURIComponent(ctx.params[3]!);
      if (!issue.labels.includes(name)) return notFound("Label does not exist");
      issue.labels = issue.labels.filter((l) => l !== name);
      return json(200, labelsJson(issue.labels));
    },
  },
  {
    method: "POST",
    path: repoPath("/labels"),
    handle: (ctx) => {
      const labels = ctx.state.repo(ctx.fullName).labels;
      const name = String(ctx.body.name);
      if (labels.has(name)) return validationFailed("Label", "already_exists");
      labels.add(name);
      return json(201, { id: labels.size, name, color: ctx.body.color ?? "ededed" });
    },
  },
];
