import type { FakeCheckRun } from "./github-state.js";
import { json, notFound, repoPath, type Route, type RouteContext } from "./route.js";

const checkRunJson = (ctx: RouteContext, run: FakeCheckRun) => ({
  id: run.id,
  head_sha: run.headSha,
  name: run.name,
  status: run.status,
  conclusion: run.conclusion,
  html_url: `${ctx.htmlBase}/${ctx.fullName}/runs/${run.id}`,
  details_url: `${ctx.htmlBase}/${ctx.fullName}/actions/runs/1/job/${run.id}`,
  app: { slug: run.appSlug },
  output: { title: run.output.title ?? null, summary: run.output.summary ?? null, text: run.output.text ?? null, annotations_count: run.annotations.length },
  pull_requests: [],
});

const runOf = (ctx: RouteContext) => ctx.state.repo(ctx.fullName).checkRuns.find((run) => run.id === Number(ctx.params[2]));

/** Checks: a commit's check runs and combined status, a run's annotations, and a GitHub Actions job's log (a redirect to its text, as GitHub does). */
export const checkRoutes: Route[] = [
  {
    method: "GET",
    path: repoPath("/commits/([^/]+)/check-runs"),
    handle: (ctx) => {
      // `filter=latest` (what the app asks for): the newest run of each check name.
      const runs = [
        ...new Map(
          ctx.state
            .repo(ctx.fullName)
            .checkRuns.filter((run) => run.headSha === ctx.params[2])
            .map((run) => [run.name, run]),
        ).values(),
      ];
      return json(200, { total_count: runs.length, check_runs: runs.map((run) => checkRunJson(ctx, run)) });
    },
  },
  {
    method: "GET",
    path: repoPath("/commits/([^/]+)/status"),
    handle: (ctx) => {
      const sha = ctx.params[2]!;
      // One per context, the latest, as GitHub's combined status lists them.
      const latest = new Map(
        ctx.state
          .repo(ctx.fullName)
          .statuses.filter((s) => s.sha === sha)
          .map((s) => [s.context, s]),
      );
      const statuses = [...latest.values()];
      const state = statuses.some((s) => s.state === "failure" || s.state === "error")
        ? "failure"
        : statuses.some((s) => s.state === "pending")
          ? "pending"
          : "success";
      return json(200, {
        sha,
        state,
        total_count: statuses.length,
        statuses: statuses.map((s, i) => ({ id: i + 1, context: s.context, state: s.state, description: s.description ?? null, target_url: null })),
      });
    },
  },
  {
    method: "GET",
    path: repoPath("/check-runs/(\\d+)/annotations"),
    handle: (ctx) => {
      const run = runOf(ctx);
      if (!run) return notFound();
      return json(
        200,
        run.annotations.map((a) => ({
          path: a.path,
          start_line: a.line,
          end_line: a.line,
          annotation_level: a.level,
          title: a.title ?? null,
          message: a.message,
          raw_details: null,
        })),
      );
    },
  },
  {
    method: "GET",
    path: repoPath("/actions/jobs/(\\d+)/logs"),
    handle: (ctx) => {
      const run = runOf(ctx);
      if (run?.log === undefined) return notFound();
      return { status: 302, headers: { location: `${ctx.htmlBase}/_fake/job-logs/${ctx.fullName}/${run.id}` } };
    },
  },
  {
    method: "GET",
    path: /^\/_fake\/job-logs\/([^/]+)\/([^/]+)\/(\d+)$/,
    handle: (ctx) => {
      const run = runOf(ctx);
      if (run?.log === undefined) return notFound();
      return { status: 200, body: run.log, headers: { "content-type": "text/plain; charset=utf-8" } };
    },
  },
];
