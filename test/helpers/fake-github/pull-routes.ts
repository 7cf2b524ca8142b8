import type { FakePull } from "./github-state.js";
import { repoPath, json, notFound, validationFailed, type Route, type RouteContext } from "./route.js";

const pullJson = ({ htmlBase, fullName }: RouteContext, pull: FakePull) => ({
  id: pull.number,
  number: pull.number,
  title: pull.title,
  body: pull.body,
  state: pull.state,
  draft: pull.draft,
  html_url: `${htmlBase}/${fullName}/pull/${pull.number}`,
  head: { label: pull.head, ref: pull.head.slice(pull.head.indexOf(":") + 1) },
  base: { ref: pull.base },
});

/** GitHub takes `head` as `branch` or `owner:branch`; the fake keeps the long form. */
const qualified = (ctx: RouteContext, head: string) => (head.includes(":") ? head : `${ctx.params[0]}:${head}`);

const pullOf = (ctx: RouteContext) => ctx.state.repo(ctx.fullName).pulls.find((p) => p.number === Number(ctx.params[2]));

/** Pull requests: list by head and state, create (one open per head, as GitHub enforces), read, update. */
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
