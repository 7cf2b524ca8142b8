import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runner } from "../action/src/runner.js";
import { readRunnerReport } from "../src/claude/runner-report.js";
import { trackingMarker } from "../src/reporter/render-tracking-comment.js";
import { createActionJob, JOB_OWNER as OWNER, JOB_REPO as REPO, RUN_URL, type ActionJob } from "./helpers/action-job.js";
import { FAKE_CLAUDE, waitFor } from "./helpers/agent-process.js";
import { branchCommits, listBranches, pushCommit } from "./helpers/git-origin.js";
import { API } from "./helpers/github-nock.js";
import { serveOverHttp, type HttpGitServer } from "./helpers/http-git-server.js";
import { startOtlpReceiver } from "./helpers/otlp-receiver.js";

const TASK = `${OWNER}/${REPO}#7`;
const ISSUE = `/repos/${OWNER}/${REPO}/issues/7`;
const BRANCH = "claude/issue-7-add-a-changelog-entry";
const BOT = { login: "claude-code-cluster[bot]", type: "Bot" };
const TOKEN = "ghs_jobtoken";
const INPUTS = { "issue-number": "7", specialty: "docs", "max-turns": "5", "timeout-minutes": "5", "github-token": TOKEN };
/** The token as it travels in a header: what actions/checkout writes to the git config. */
const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString("base64");

interface Written {
  comments: string[];
  labels: string[];
  /** The issue's state label now, as GET …/labels answers it; a test sets `claude:cancelled` to cancel. */
  current?: string;
}

/** GitHub as the job sees it: the issue, its repo, and the tracking comment the app wrote while the task was queued. */
function nockIssue(written: Written, options: { existingComment?: boolean } = {}) {
  const trackingComment = { id: 900, user: BOT, body: `${trackingMarker(TASK)}\n\n⏳ **Queued**` };
  nock(API)
    .get(ISSUE)
    .reply(200, {
      number: 7,
      title: "Add a changelog entry",
      body: "Please add a CHANGELOG entry.",
      html_url: `https://github.com/${OWNER}/${REPO}/issues/7`,
      user: { login: "maintainer" },
    })
    .get(`/repos/${OWNER}/${REPO}`)
    .reply(200, { clone_url: `https://github.com/${OWNER}/${REPO}.git`, default_branch: "main" })
    .get(`${ISSUE}/comments`)
    .query(true)
    .times(2)
    .reply(200, [
      { id: 5, user: { login: "maintainer", type: "User" }, body: "Mention the new flag.", created_at: "2025-01-01T00:00:00Z" },
      ...(options.existingComment === false ? [] : [trackingComment]),
    ]);
  nock(API)
    .persist()
    .post(`${ISSUE}/labels`)
    .reply(200, (_uri, body) => {
      const [label] = (body as { labels: string[] }).labels;
      written.labels.push(label!);
      if (written.current !== "claude:cancelled") written.current = label;
      return [
        { id: 1, name: "claude" },
        { id: 2, name: label },
      ];
    })
    .delete(/\/repos\/octo-org\/hello\/issues\/7\/labels\/claude%3A[a-z-]+$/)
    .reply(200, [])
    .get(`${ISSUE}/labels`)
    .query(true)
    .reply(200, () => [{ id: 1, name: "claude" }, ...(written.current ? [{ id: 2, name: written.current }] : [])]);
  if (options.existingComment !== false) {
    nock(API)
      .persist()
      .patch(`/repos/${OWNER}/${REPO}/issues/comments/900`)
      .reply(200, (_uri, body) => {
        written.comments.push((body as { body: string }).body);
        return { id: 900 };
      });
  }
}

/** GitHub's side of opening the task's pull request: no open one yet, then #31 created. */
function nockPullRequest() {
  nock(API)
    .get(`/repos/${OWNER}/${REPO}/pulls`)
    .query(true)
    .reply(200, [])
    .post(`/repos/${OWNER}/${REPO}/pulls`)
    .reply(201, { number: 31, html_url: `https://github.com/${OWNER}/${REPO}/pull/31` });
}

describe("the action's runner on a self-hosted runner", () => {
  let job: ActionJob | undefined;
  let savedEnv: NodeJS.ProcessEnv;
  let written: Written;

  async function runJob(inputs: Record<string, string>, env: Record<string, string> = {}) {
    job = await createActionJob(inputs, env);
    Object.assign(process.env, job.env);
    const outcome = await runner();
    return { outcome, outputs: await job.outputs() };
  }

  beforeEach(() => {
    savedEnv = { ...process.env };
    written = { comments: [], labels: [] };
  });
  afterEach(async () => {
    process.env = savedEnv;
    process.exitCode = undefined;
    await job?.cleanup();
    job = undefined;
  });

  it("runs Claude on the task branch, pushes it, opens the pull request and keeps the tracking comment", async () => {
    nockIssue(written);
    let prBody = "";
    nock(API)
      .get(`/repos/${OWNER}/${REPO}/pulls`)
      .query({ head: `${OWNER}:${BRANCH}`, state: "open", per_page: "1" })
      .reply(200, [])
      .post(`/repos/${OWNER}/${REPO}/pulls`, (body: { head: string; base: string; body: string }) => {
        prBody = body.body;
        return body.head === BRANCH && body.base === "main";
      })
      .reply(201, { number: 31, html_url: `https://github.com/${OWNER}/${REPO}/pull/31` });

    const { outcome, outputs } = await runJob(INPUTS);

    expect(outcome?.conclusion).toBe("pr-open");
    expect(outputs).toEqual({ conclusion: "pr-open", branch: BRANCH, "pr-url": `https://github.com/${OWNER}/${REPO}/pull/31`, cost: "0.0234", turns: "3" });
    expect(await listBranches(job!.origin.dir)).toEqual([BRANCH, "main"]);
    expect(await branchCommits(job!.origin.dir, BRANCH)).toEqual(["Update CLAUDE_CHANGE.md", "Initial commit"]);
    expect(prBody).toContain("Closes #7");
    expect(prBody).toContain("runner pc-2");
    // The Action does not run the repository's test command: the PR says so rather than nothing.
    expect(prBody).toContain("**Tests**: not run. Self-hosted runner mode does not run the repository's test command");
    expect(written.labels).toEqual(["claude:running", "claude:pr-open"]);
    // The app's comment, found by its marker and edited in place: running, Claude's progress, then the PR link.
    expect(written.comments).toHaveLength(3);
    expect(written.comments[0]).toMatch(/^<!-- claude-code-cluster:task octo-org\/hello#7 -->\n\n🏃 \*\*Running\*\*/);
    expect(written.comments[1]).toContain("**Progress** 1 turn · now `Write ");
    // The hidden report the dispatcher reads when the job ends: the run's usage under the runner's account.
    expect(readRunnerReport(written.comments[2], TASK, 1)).toEqual({
      taskId: TASK,
      run: 1,
      runner: "pc-2",
      account: "runner:pc-2",
      usage: expect.objectContaining({ costUsd: 0.0234, turns: 3, outcome: "success" }),
    });
    expect(written.comments[2]).toContain("✅ **Pull request opened**: [#31](https://github.com/octo-org/hello/pull/31)");
    expect(process.exitCode).toBeUndefined();
  });

  it("continues the branch an earlier run pushed and reuses its open pull request", async () => {
    nockIssue(written);
    nock(API)
      .get(`/repos/${OWNER}/${REPO}/pulls`)
      .query(true)
      .reply(200, [{ number: 31, html_url: `https://github.com/${OWNER}/${REPO}/pull/31` }])
      .patch(`/repos/${OWNER}/${REPO}/pulls/31`)
      .reply(200, {});
    job = await createActionJob(INPUTS);
    await pushCommit(job.origin.dir, {
      branch: BRANCH,
      from: "main",
      message: "Earlier run",
      files: { "CLAUDE_CHANGE.md": "# Changes\n\n- change 1 by fake claude\n" },
    });
    Object.assign(process.env, job.env, { INPUT_RUN: "2" });
    const outcome = await runner();

    expect(outcome?.conclusion).toBe("pr-open");
    expect(await branchCommits(job.origin.dir, BRANCH)).toEqual(["Update CLAUDE_CHANGE.md", "Earlier run", "Initial commit"]);
    expect(written.comments.at(-1)).toContain("run 2");
  });

  it("ends no-changes without pushing when Claude changed nothing", async () => {
    nockIssue(written, { existingComment: false });
    nock(API)
      .post(`${ISSUE}/comments`)
      .reply(201, (_uri, body) => {
        written.comments.push((body as { body: string }).body);
        return { id: 901 };
      })
      .patch(`/repos/${OWNER}/${REPO}/issues/comments/901`)
      .reply(200, (_uri, body) => {
        written.comments.push((body as { body: string }).body);
        return { id: 901 };
      });
    const { outputs } = await runJob(INPUTS, { FAKE_CLAUDE_SCENARIO: "no-changes" });

    expect(outputs.conclusion).toBe("no-changes");
    expect(await listBranches(job!.origin.dir)).toEqual(["main"]);
    expect(written.labels).toEqual(["claude:running", "claude:no-changes"]);
    expect(written.comments.at(-1)).toContain("already implemented");
  });

  it("a usage limit ends the job 'waiting', not failed, and the comment says until when", async () => {
    nockIssue(written);
    const { outputs } = await runJob(INPUTS, { FAKE_CLAUDE_SCENARIO: "usage-limit", FAKE_CLAUDE_RESET: "1767225600" });

    expect(outputs.conclusion).toBe("waiting");
    expect(process.exitCode).toBeUndefined();
    expect(written.labels.at(-1)).toBe("claude:waiting");
    expect(written.comments.at(-1)).toContain("the usage limit to reset at 2026-01-01T00:00:00.000Z (runner pc-2)");
    // The app queues the task again for that time, not after a fixed wait.
    expect(readRunnerReport(written.comments.at(-1), TASK, 1)?.resetAt).toBe(1767225600000);
  });

  it("an expired login opens one session-timeout issue for the runner and ends 'waiting'", async () => {
    nockIssue(written);
    nock(API)
      .get(`/repos/${OWNER}/${REPO}/issues`)
      .query({ labels: "session-timeout", state: "open", per_page: "100" })
      .reply(200, [{ number: 40, title: "pc-9: Claude session expired" }])
      .post(
        `/repos/${OWNER}/${REPO}/issues`,
        (body: { title: string; labels: string[]; body: string }) =>
          body.title === "pc-2: Claude session expired" && body.labels[0] === "session-timeout" && body.body.includes("claude /login"),
      )
      .reply(201, { number: 41 });
    const { outputs } = await runJob(INPUTS, { FAKE_CLAUDE_SCENARIO: "not-logged-in" });

    expect(outputs.conclusion).toBe("waiting");
    expect(written.comments.at(-1)).toContain("a new Claude login on runner pc-2 (issue #41");
    // Closing that issue dispatches the task again at once (the app finds the task by it).
    expect(readRunnerReport(written.comments.at(-1), TASK, 1)?.sessionIssue).toBe(41);
  });

  it("an expired login with the runner's issue already open does not open another", async () => {
    nockIssue(written);
    nock(API)
      .get(`/repos/${OWNER}/${REPO}/issues`)
      .query(true)
      .reply(200, [{ number: 40, title: "pc-2: Claude session expired" }]);
    const { outputs } = await runJob(INPUTS, { FAKE_CLAUDE_SCENARIO: "not-logged-in" });

    expect(outputs.conclusion).toBe("waiting");
    expect(written.comments.at(-1)).toContain("(issue #40");
  });

  it("a failed run marks the task failed with a link to the run and fails the job", async () => {
    nockIssue(written);
    const { outputs } = await runJob(INPUTS, { FAKE_CLAUDE_SCENARIO: "max-turns" });

    expect(outputs.conclusion).toBe("failed");
    expect(process.exitCode).toBe(1);
    expect(written.labels.at(-1)).toBe("claude:failed");
    expect(written.comments.at(-1)).toContain("max turns");
    expect(written.comments.at(-1)).toContain(RUN_URL);
  });

  it("applies the repository's settings the dispatcher passed: permission mode, model, role text, draft pull request, account", async () => {
    nockIssue(written);
    let draft: boolean | undefined;
    nock(API)
      .get(`/repos/${OWNER}/${REPO}/pulls`)
      .query(true)
      .reply(200, [])
      .post(`/repos/${OWNER}/${REPO}/pulls`, (body: { draft?: boolean }) => {
        draft = body.draft;
        return true;
      })
      .reply(201, { number: 32, html_url: `https://github.com/${OWNER}/${REPO}/pull/32` });
    const argsFile = join(tmpdir(), `ccc-args-${randomUUID()}.json`);
    const { outcome } = await runJob(
      {
        ...INPUTS,
        model: "claude-opus-4-1",
        "permission-mode": "plan",
        "allowed-tools": "Read,Edit",
        role: "Always run the docs linter before committing.",
        "draft-pull-request": "true",
        account: "team-max",
      },
      { FAKE_CLAUDE_ARGS_FILE: argsFile },
    );

    expect(outcome?.conclusion).toBe("pr-open");
    const { argv, prompt } = JSON.parse(await readFile(argsFile, "utf8")) as { argv: string[]; prompt: string };
    await rm(argsFile, { force: true });
    const flag = (name: string) => argv[argv.indexOf(name) + 1];
    expect([flag("--permission-mode"), flag("--model"), flag("--max-turns"), flag("--allowedTools")]).toEqual(["plan", "claude-opus-4-1", "5", "Read,Edit"]);
    expect(prompt).toContain("Notes from the repository maintainers for this role:\nAlways run the docs linter before committing.");
    expect(draft).toBe(true);
    expect(readRunnerReport(written.comments.at(-1), TASK, 1)?.account).toBe("team-max");
  });

  it("a task cancelled while Claude ran gets no push, no pull request and no label after the cancel", async () => {
    nockIssue(written);
    const pulls = nock(API).post(`/repos/${OWNER}/${REPO}/pulls`).reply(201, { number: 33, html_url: "https://github.com/x" });
    const hold = join(tmpdir(), `ccc-hold-${randomUUID()}`);
    job = await createActionJob(INPUTS, { FAKE_CLAUDE_HOLD_FILE: hold });
    Object.assign(process.env, job.env);
    const running = runner();
    // Claude is at work (its progress is on the issue) when the app cancels the task and labels it so.
    await waitFor("the progress comment", async () => written.comments.length >= 2);
    written.current = "claude:cancelled";
    await writeFile(hold, "");
    const outcome = await running;
    await rm(hold, { force: true });

    expect(outcome?.conclusion).toBe("cancelled");
    expect(process.exitCode).toBeUndefined();
    expect(await listBranches(job.origin.dir)).toEqual(["main"]);
    expect(pulls.isDone()).toBe(false);
    expect(written.labels).toEqual(["claude:running"]);
    expect(written.comments).toHaveLength(2);
    nock.cleanAll();
  });

  it("inputs come from INPUT_<NAME> variables and a missing token fails the job with what to pass", async () => {
    const { outcome } = await runJob({ "issue-number": "7", "github-token": "" });
    expect(outcome).toBeUndefined();
    expect(process.exitCode).toBe(1);
  });

  it("with an OTLP endpoint set, the job is one `task run` span of ccc-action with its GitHub calls under it, exported before the job ends", async () => {
    const receiver = await startOtlpReceiver();
    try {
      nockIssue(written);
      nockPullRequest();
      const { outcome } = await runJob(INPUTS, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" });
      expect(outcome?.conclusion).toBe("pr-open");
      // runner() shuts tracing down before it returns: the spans are there already.
      const spans = receiver.spans();
      // No traceparent input (a job run by hand, or an older dispatcher): a trace of its own.
      const run = spans.find((span) => span.name === "task run");
      expect(run).toMatchObject({
        service: "ccc-action",
        parentSpanId: "",
        attributes: expect.objectContaining({ "github.issue.number": 7, "ccc.task.end": "pr-open" }),
      });
      const calls = spans.filter((span) => span.name.startsWith("GitHub "));
      expect(calls.map((span) => span.name)).toContain("GitHub POST /repos/{owner}/{repo}/pulls");
      expect(calls.every((span) => span.traceId === run?.traceId)).toBe(true);
      expect(JSON.stringify(spans)).not.toContain("CHANGELOG");
    } finally {
      await receiver.close();
    }
  });
});

describe("the job's token on a self-hosted runner", () => {
  let job: ActionJob | undefined;
  let server: HttpGitServer | undefined;
  let savedEnv: NodeJS.ProcessEnv;
  let written: Written;

  beforeEach(() => {
    savedEnv = { ...process.env };
    written = { comments: [], labels: [] };
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    process.env = savedEnv;
    process.exitCode = undefined;
    await server?.close();
    await job?.cleanup();
    job = undefined;
    server = undefined;
  });

  /**
   * The job with its origin behind a server that wants the token, as GitHub does, and a Claude
   * that writes down, before it works, the checkout's `.git/config`, every config its own git
   * reads (includes followed) and its environment.
   */
  async function prepareJob(persist: (checkout: string, serverUrl: string) => Promise<void>) {
    job = await createActionJob(INPUTS);
    server = await serveOverHttp(job.origin.dir, TOKEN);
    const tmp = dirname(job.checkout);
    await execa("git", ["remote", "set-url", "origin", server.url], { cwd: job.checkout });
    await persist(job.checkout, server.serverUrl);
    const claude = join(tmp, "claude");
    await writeFile(
      claude,
      `#!/bin/sh\ncat .git/config > "$FAKE_CLAUDE_SAW/git-config"\ngit config --list --show-origin > "$FAKE_CLAUDE_SAW/git-config-list" 2>&1\nexec "${process.execPath}" "${FAKE_CLAUDE}" "$@"\n`,
    );
    await chmod(claude, 0o755);
    const saw = join(tmp, "saw");
    await mkdir(saw);
    Object.assign(process.env, job.env, {
      GITHUB_SERVER_URL: server.serverUrl,
      RUNNER_TEMP: join(tmp, "runner-temp"),
      CLAUDE_BIN: claude,
      FAKE_CLAUDE_SAW: saw,
      FAKE_CLAUDE_ENV_FILE: join(saw, "env.json"),
      NO_PROXY: "127.0.0.1",
    });
    return { saw, serverUrl: server.serverUrl };
  }

  /** Files under `dir` (the whole checkout, .git included) whose bytes contain `needle`. */
  async function filesContaining(dir: string, needle: string): Promise<string[]> {
    const found: string[] = [];
    for (const path of await readdir(dir, { recursive: true })) {
      const full = join(dir, path);
      if ((await stat(full)).isFile() && (await readFile(full)).includes(needle)) found.push(path);
    }
    return found;
  }

  async function expectClaudeSawNoToken(saw: string) {
    for (const file of ["git-config", "git-config-list", "env.json"]) {
      const text = await readFile(join(saw, file), "utf8");
      expect(text, file).not.toContain(TOKEN);
      expect(text, file).not.toContain(BASIC);
    }
    expect(await readFile(join(saw, "git-config-list"), "utf8")).not.toMatch(/extraheader/i);
  }

  it("a token actions/checkout left in .git/config is removed before Claude starts, with a warning, and the push still carries it", async () => {
    nockIssue(written);
    nockPullRequest();
    const stdout = vi.spyOn(process.stdout, "write");
    // What actions/checkout@v4 writes when the workflow leaves persist-credentials at its default.
    const { saw } = await prepareJob((checkout, serverUrl) =>
      execa("git", ["config", "--local", `http.${serverUrl}/.extraheader`, `AUTHORIZATION: basic ${BASIC}`], { cwd: checkout }).then(() => undefined),
    );

    const outcome = await runner();

    expect(outcome?.conclusion).toBe("pr-open");
    await expectClaudeSawNoToken(saw);
    // The origin refuses a request without the token: fetch and push had it, from their environment.
    expect(server!.requests.filter((request) => request.endsWith(" 401"))).toEqual([]);
    expect(server!.requests).toContain("POST /origin.git/git-receive-pack 200");
    expect(await branchCommits(job!.origin.dir, BRANCH)).toEqual(["Update CLAUDE_CHANGE.md", "Initial commit"]);
    expect(await filesContaining(job!.checkout, TOKEN)).toEqual([]);
    expect(await filesContaining(job!.checkout, BASIC)).toEqual([]);
    const warnings = stdout.mock.calls.map(([chunk]) => String(chunk)).filter((line) => line.startsWith("::warning::"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("persist-credentials: false");
    expect(warnings[0]).not.toContain(BASIC);
  });

  it("a credentials file a newer actions/checkout includes from .git/config is unhooked and deleted before Claude starts", async () => {
    nockIssue(written);
    nockPullRequest();
    let credentials = "";
    // actions/checkout v6: the header in $RUNNER_TEMP/git-credentials-<uuid>.config, pulled in by includeIf.
    const { saw } = await prepareJob(async (checkout, serverUrl) => {
      const runnerTemp = join(dirname(checkout), "runner-temp");
      await mkdir(runnerTemp);
      credentials = join(runnerTemp, `git-credentials-${randomUUID()}.config`);
      await writeFile(credentials, `[http "${serverUrl}/"]\n\textraheader = AUTHORIZATION: basic ${BASIC}\n`);
      await execa("git", ["config", "--local", `includeIf.gitdir:${join(checkout, ".git")}.path`, credentials], { cwd: checkout });
      await execa("git", ["config", "--local", `includeIf.gitdir:${join(checkout, ".git")}/worktrees/*.path`, credentials], { cwd: checkout });
    });

    const outcome = await runner();

    expect(outcome?.conclusion).toBe("pr-open");
    await expectClaudeSawNoToken(saw);
    expect(existsSync(credentials)).toBe(false);
    expect(await readFile(join(job!.checkout, ".git", "config"), "utf8")).not.toContain("git-credentials-");
    expect(server!.requests).toContain("POST /origin.git/git-receive-pack 200");
    expect(server!.requests.filter((request) => request.endsWith(" 401"))).toEqual([]);
  });

  it("a checkout without persisted credentials (persist-credentials: false) fetches and pushes with the token, and nothing is warned", async () => {
    nockIssue(written);
    nockPullRequest();
    const stdout = vi.spyOn(process.stdout, "write");
    const { saw } = await prepareJob(async () => undefined);

    const outcome = await runner();

    expect(outcome?.conclusion).toBe("pr-open");
    await expectClaudeSawNoToken(saw);
    expect(server!.requests).toContain("POST /origin.git/git-receive-pack 200");
    expect(await filesContaining(job!.checkout, BASIC)).toEqual([]);
    expect(stdout.mock.calls.map(([chunk]) => String(chunk)).filter((line) => line.startsWith("::warning::"))).toEqual([]);
  });
});
