import type { Redis } from "ioredis";
import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { UsageStore } from "../src/store/usage-store.js";
import { Reporter } from "../src/reporter/reporter.js";
import { startAgentProcess, waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { deliver, startAppServer, type RunningApp } from "./helpers/app-server.js";
import { createOrigin, listBranches, branchCommits, type Origin } from "./helpers/git-origin.js";
import { API, nockInstallationToken, nockNoRepoConfig, nockPermission } from "./helpers/github-nock.js";
import { closeIntakeDeps, intakeDeps } from "./helpers/intake.js";
import { labeledPayload } from "./helpers/payloads.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const OWNER = "octo-org";
const REPO = "hello";
const TASK = `${OWNER}/${REPO}#7`;

describe("end to end: app + agent process + Redis + fake claude + local origin", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let deps: IntakeDeps;
  let app: RunningApp;
  let reporter: Reporter;
  let agent: AgentProcess;
  let origin: Origin;

  beforeAll(async () => {
    redis = connectRedis();
    origin = await createOrigin();
    deps = intakeDeps(redis, prefix);
    app = await startAppServer(deps);
    reporter = new Reporter({ connection: redis, prefix, store: deps.store, getOctokit: (id) => app.probot.auth(id), coalesceMs: 300 });
    reporter.start();
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await reporter?.close();
    await app?.stop();
    await closeIntakeDeps(deps);
    await origin?.cleanup();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("a claude label ends in exactly one pushed branch, one PR request and a comment that went queued → running → pr-open", async () => {
    const commentBodies: string[] = [];
    const pullRequests: Array<{ title: string; head: string; base: string; body: string }> = [];
    nockInstallationToken();
    nockNoRepoConfig(OWNER, REPO);
    nockPermission(OWNER, REPO, "maintainer", "write");
    nock(API)
      .post(`/repos/${OWNER}/${REPO}/issues/7/comments`)
      .reply(201, (_uri, body) => {
        commentBodies.push((body as { body: string }).body);
        return { id: 1000, body: (body as { body: string }).body };
      });
    nock(API)
      .persist()
      .patch(`/repos/${OWNER}/${REPO}/issues/comments/1000`)
      .reply(200, (_uri, body) => {
        commentBodies.push((body as { body: string }).body);
        return { id: 1000 };
      });
    const labels: string[] = [];
    nock(API)
      .persist()
      .post(`/repos/${OWNER}/${REPO}/issues/7/labels`)
      .reply(200, (_uri, body) => {
        const added = (body as { labels: string[] }).labels;
        labels.push(...added);
        return added.map((name) => ({ name }));
      });
    nock(API)
      .persist()
      .delete(new RegExp(`/repos/${OWNER}/${REPO}/issues/7/labels/.+`))
      .reply(200, []);
    nock(API).get(`/repos/${OWNER}/${REPO}/pulls`).query(true).reply(200, []);
    nock(API)
      .post(`/repos/${OWNER}/${REPO}/pulls`)
      .reply(201, (_uri, body) => {
        pullRequests.push(body as (typeof pullRequests)[number]);
        return { number: 8, html_url: `https://github.com/${OWNER}/${REPO}/pull/8`, state: "open", draft: false };
      });

    const response = await deliver(app.url, "issues", labeledPayload("claude", { cloneUrl: origin.url }));
    expect(response.status).toBe(200);

    // The agent starts once the task is visibly queued, as when every agent is busy; an idle
    // agent takes a task within milliseconds and the first render already says "running".
    await waitFor("the queued tracking comment", async () => commentBodies.at(0)?.includes("**Queued**"));
    // The fake keeps Claude "running" for a while so the tracking comment shows it.
    agent = await startAgentProcess({ name: "e2e-agent", prefix, redis, env: { FAKE_CLAUDE_DELAY_MS: "1500" } });

    await waitFor("the PR link in the tracking comment", async () => commentBodies.at(-1)?.includes("/pull/8"), 30_000);

    const branches = (await listBranches(origin.dir)).filter((b) => b.startsWith("claude/"));
    expect(branches).toEqual(["claude/issue-7-add-a-changelog-entry"]);
    expect((await branchCommits(origin.dir, branches[0]!)).length).toBeGreaterThan(1);

    expect(pullRequests).toHaveLength(1);
    expect(pullRequests[0]).toMatchObject({ title: "Add a changelog entry", head: "claude/issue-7-add-a-changelog-entry", base: "main" });
    expect(pullRequests[0]!.body).toContain("Closes #7");
    expect(pullRequests[0]!.body).toContain("e2e-agent");

    const states = commentBodies.map((b) =>
      b.includes("**Queued**") ? "queued" : b.includes("**Running**") ? "running" : b.includes("**Pull request opened**") ? "pr-open" : "other",
    );
    const distinct = states.filter((s, i) => s !== states[i - 1]);
    expect(distinct).toEqual(["queued", "running", "pr-open"]);
    expect(labels).toContain("claude:queued");
    expect(labels).toContain("claude:running");
    expect(labels.at(-1)).toBe("claude:pr-open");

    const record = await deps.store.get(TASK);
    expect(record).toMatchObject({ state: "pr-open", prNumber: 8, agent: "e2e-agent" });
    expect(record?.result?.costUsd).toBeGreaterThan(0);
    const [usage] = await new UsageStore(redis, prefix).range(0, Date.now());
    expect(usage).toMatchObject({ agent: "e2e-agent", account: "default", taskId: TASK, outcome: "success", inputTokens: 6700, outputTokens: 220 });
  }, 60_000);
});
