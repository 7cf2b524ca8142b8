import { createServer, type IncomingMessage, type Server } from "node:http";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { createActionJob, JOB_OWNER as OWNER, JOB_REPO as REPO, type ActionJob } from "./helpers/action-job.js";
import { REPO_ROOT } from "./helpers/agent-process.js";
import { branchCommits } from "./helpers/git-origin.js";

const DIST = join(REPO_ROOT, "action/dist/index.js");
const BRANCH = "claude/issue-7-add-a-changelog-entry";

interface Request {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

/** Just enough of the REST API for one task, on loopback: nock cannot reach into a child process. */
async function fakeGitHub(): Promise<{ url: string; requests: Request[]; server: Server }> {
  const requests: Request[] = [];
  const issue = `/repos/${OWNER}/${REPO}/issues/7`;
  const routes: Record<string, (body: Record<string, unknown>) => [number, unknown]> = {
    [`GET ${issue}`]: () => [
      200,
      { number: 7, title: "Add a changelog entry", body: "Please.", html_url: `https://github.com/${OWNER}/${REPO}/issues/7`, user: { login: "maintainer" } },
    ],
    [`GET /repos/${OWNER}/${REPO}`]: () => [200, { clone_url: `https://github.com/${OWNER}/${REPO}.git`, default_branch: "main" }],
    [`GET ${issue}/comments`]: () => [200, []],
    // Not cancelled: the action looks before each report, the push and the pull request.
    [`GET ${issue}/labels`]: () => [200, [{ id: 1, name: "claude:running" }]],
    [`POST ${issue}/labels`]: (body) => [200, (body.labels as string[]).map((name, id) => ({ id, name }))],
    [`DELETE ${issue}/labels/claude%3Arunning`]: () => [200, []],
    [`POST ${issue}/comments`]: () => [201, { id: 900 }],
    [`PATCH /repos/${OWNER}/${REPO}/issues/comments/900`]: () => [200, { id: 900 }],
    [`GET /repos/${OWNER}/${REPO}/pulls`]: () => [200, []],
    [`POST /repos/${OWNER}/${REPO}/pulls`]: () => [201, { number: 31, html_url: `https://github.com/${OWNER}/${REPO}/pull/31` }],
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
});
