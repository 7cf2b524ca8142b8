import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { createActionJob, JOB_OWNER as OWNER, JOB_REPO as REPO, type ActionJob } from "./helpers/action-job.js";
import { REPO_ROOT } from "./helpers/agent-process.js";
import { branchCommits } from "./helpers/git-origin.js";
import { startOtlpReceiver, type OtlpReceiver } from "./helpers/otlp-receiver.js";

const DIST = join(REPO_ROOT, "action/dist/index.js");
const BRANCH = "claude/issue-7-add-a-changelog-entry";
const CONSUMER = 5;

interface Request {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

/** Just enough of the REST API for one task, on loopback: nock cannot reach into a child process. */
async function fakeGitHub(
  text = { title: "Add a changelog entry", body: "Please." },
  options: { refusePull?: boolean } = {},
): Promise<{ url: string; requests: Request[]; server: Server }> {
  const requests: Request[] = [];
  const issue = `/repos/${OWNER}/${REPO}/issues/7`;
  const routes: Record<string, (body: Record<string, unknown>) => [number, unknown]> = {
    [`GET ${issue}`]: () => [200, { number: 7, ...text, html_url: `https://github.com/${OWNER}/${REPO}/issues/7`, user: { login: "maintainer" } }],
    [`GET /repos/${OWNER}/${REPO}`]: () => [200, { clone_url: `https://github.com/${OWNER}/${REPO}.git`, default_branch: "main" }],
    [`GET ${issue}/comments`]: () => [200, []],
    // Not cancelled: the action looks before each report, the push and the pull request.
    [`GET ${issue}/labels`]: () => [200, [{ id: 1, name: "claude:running" }]],
    [`POST ${issue}/labels`]: (body) => [200, (body.labels as string[]).map((name, id) => ({ id, name }))],
    [`DELETE ${issue}/labels/claude%3Arunning`]: () => [200, []],
    [`POST ${issue}/comments`]: () => [201, { id: 900 }],
    [`PATCH /repos/${OWNER}/${REPO}/issues/comments/900`]: () => [200, { id: 900 }],
    [`GET /repos/${OWNER}/${REPO}/pulls`]: () => [200, []],
    [`POST /repos/${OWNER}/${REPO}/pulls`]: () =>
      options.refusePull ? [422, { message: "Validation Failed" }] : [201, { number: 31, html_url: `https://github.com/${OWNER}/${REPO}/pull/31` }],
  };
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const path = (req.url ?? "").split("?")[0]!;
      requests.push({ method: req.method ?? "", path, body });
      const route = routes[`${req.method} ${path}`];
      const [status, payload] = route ? route(body) : [404, { message: `no fake for ${req.method} ${path}` }];
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, requests, server };
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = "";
  for await (const chunk of req) text += String(chunk);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

// Whether dist is fresh is `npm run check:action`, run by .ci/run and ci.yml: as a test it
// would fail every local run while someone edits a bundled src file without rebuilding.
describe("the bundled action", () => {
  let job: ActionJob | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    server?.close();
    await job?.cleanup();
  });

  it("runs as the runner runs it (node dist/index.js, inputs in INPUT_ variables) and opens the pull request", async () => {
    const github = await fakeGitHub();
    server = github.server;
    job = await createActionJob(
      { "issue-number": "7", specialty: "docs", "github-token": "ghs_jobtoken", "max-turns": "5", "timeout-minutes": "5" },
      { GITHUB_API_URL: github.url },
    );
    const { PATH, HOME } = process.env;
    const result = await execa(process.execPath, [DIST], { env: { PATH: PATH ?? "", HOME: HOME ?? "", ...job.env }, extendEnv: false, reject: false });

    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(await job.outputs()).toMatchObject({ conclusion: "pr-open", branch: BRANCH, "pr-url": `https://github.com/${OWNER}/${REPO}/pull/31`, turns: "3" });
    expect(await branchCommits(job.origin.dir, BRANCH)).toEqual(["Update CLAUDE_CHANGE.md", "Initial commit"]);
    const writes = github.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
    expect(writes).toEqual([
      `POST /repos/${OWNER}/${REPO}/issues/7/labels`,
      `POST /repos/${OWNER}/${REPO}/issues/7/comments`,
      // Claude's progress, in the same comment; the label stays.
      `PATCH /repos/${OWNER}/${REPO}/issues/comments/900`,
      `POST /repos/${OWNER}/${REPO}/pulls`,
      `POST /repos/${OWNER}/${REPO}/issues/7/labels`,
      `DELETE /repos/${OWNER}/${REPO}/issues/7/labels/claude%3Arunning`,
      `PATCH /repos/${OWNER}/${REPO}/issues/comments/900`,
    ]);
    // The token reached GitHub and nothing else: the runner masks it in logs.
    expect(result.stdout).toContain("::add-mask::ghs_jobtoken");
  });

  describe("with tracing on (OTEL_* in the job's environment)", () => {
    let receiver: OtlpReceiver | undefined;
    let dir: string | undefined;
    afterEach(async () => {
      await receiver?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    // Words no span may carry: the issue's title and body.
    const TITLE = "Wombat sorbet release notes";
    const BODY = "Narwhal crumpet, add the line please.";
    const DISPATCH_SPAN = "00f067aa0ba902b7";
    const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

    async function tracedJob(traceparent: string, conclusion = "pr-open", refusePull = false) {
      receiver = await startOtlpReceiver();
      dir = await mkdtemp(join(tmpdir(), "ccc-action-trace-"));
      const github = await fakeGitHub({ title: TITLE, body: BODY }, { refusePull });
      server = github.server;
      job = await createActionJob(
        {
          "issue-number": "7",
          specialty: "docs",
          "github-token": "ghs_jobtoken",
          "max-turns": "5",
          "timeout-minutes": "5",
          "dispatch-id": "0123456789abcdef",
          traceparent,
        },
        {
          GITHUB_API_URL: github.url,
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          FAKE_CLAUDE_RUN_LOG: join(dir, "runs.jsonl"),
        },
      );
      const { PATH, HOME } = process.env;
      const result = await execa(process.execPath, [DIST], { env: { PATH: PATH ?? "", HOME: HOME ?? "", ...job.env }, extendEnv: false, reject: false });
      expect(result.exitCode, result.stdout + result.stderr).toBe(conclusion === "failed" ? 1 : 0);
      expect(await job.outputs()).toMatchObject({ conclusion });
      const given = (await readFile(join(dir, "runs.jsonl"), "utf8"))
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as { traceparent: string | null });
      // The job's spans are exported before the process ends: nothing to wait for.
      return { result, spans: receiver.spans(), given };
    }

    it("joins the dispatcher's trace: task run under the traceparent input, its steps under it, Claude given the executor span's context, no issue text", async () => {
      const { spans, given } = await tracedJob(`00-${TRACE_ID}-${DISPATCH_SPAN}-01`);
      expect(spans.length).toBeGreaterThan(0);
      for (const span of spans) expect(span).toMatchObject({ traceId: TRACE_ID, service: "ccc-action" });
      const one = (name: string) => {
        const found = spans.filter((span) => span.name === name);
        expect(found, name).toHaveLength(1);
        return found[0]!;
      };
      const run = one("task run");
      expect(run).toMatchObject({ kind: CONSUMER, parentSpanId: DISPATCH_SPAN });
      expect(run.attributes).toMatchObject({
        "ccc.task.id": `${OWNER}/${REPO}#7`,
        "ccc.task.run": 1,
        "ccc.specialty": "docs",
        "ccc.runner": "pc-2",
        "ccc.dispatch.id": "0123456789abcdef",
        "ccc.task.end": "pr-open",
      });
      const executor = one("executor run");
      expect(executor.parentSpanId).toBe(run.spanId);
      // The agent's attributes, the same names and values.
      expect(executor.attributes).toMatchObject({
        "ccc.executor": "claude",
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": "default",
        "ccc.run.outcome": "success",
      });
      expect(executor.attributes["ccc.run.turns"]).toBe(3);
      expect(executor.attributes["gen_ai.usage.output_tokens"]).toBeGreaterThan(0);
      expect(one("git push")).toMatchObject({ parentSpanId: run.spanId, status: { code: 0 } });
      expect(one("git push").attributes["ccc.commits"]).toBe(1);
      expect(one("open pull request")).toMatchObject({ parentSpanId: run.spanId, attributes: { "ccc.pr.number": 31, "ccc.pr.created": true } });

      expect(given.map((run) => run.traceparent)).toEqual([`00-${TRACE_ID}-${executor.spanId}-01`]);
      const everything = JSON.stringify(spans);
      for (const word of ["Wombat", "sorbet", "Narwhal", "crumpet", "ghs_jobtoken"]) expect(everything).not.toContain(word);
    }, 30_000);

    it("an invalid traceparent is ignored with a warning: the job still succeeds, its spans in a trace of their own", async () => {
      const { result, spans, given } = await tracedJob("00-not-a-trace");
      expect(result.stdout).toMatch(/::warning::the traceparent input "00-not-a-trace" is not a W3C traceparent/);
      const run = spans.find((span) => span.name === "task run");
      expect(run?.parentSpanId).toBe("");
      expect(given.map((r) => r.traceparent?.split("-")[1])).toEqual([run?.traceId]);
    }, 30_000);

    it("a failure is marked: the pull request GitHub refused and the task run are ERROR, the push before them not", async () => {
      const { spans } = await tracedJob(`00-${TRACE_ID}-${DISPATCH_SPAN}-01`, "failed", true);
      const status = (name: string) => spans.find((span) => span.name === name)?.status.code;
      expect([status("git push"), status("open pull request"), status("task run")]).toEqual([0, 2, 2]);
      expect(spans.find((span) => span.name === "open pull request")?.events.map((event) => event.name)).toEqual(["exception"]);
      expect(spans.find((span) => span.name === "task run")?.attributes["ccc.task.end"]).toBe("failed");
    }, 30_000);
  });
});
