import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { deliver, startAppServer, type RunningApp } from "./helpers/app-server.js";
import { nockInstallationToken, nockNoRepoConfig, nockPermission, nockRepoConfig } from "./helpers/github-nock.js";
import { closeIntakeDeps, intakeDeps, pendingEvents, waitingJobs } from "./helpers/intake.js";
import { commentPayload, labeledPayload } from "./helpers/payloads.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const OWNER = "octo-org";
const REPO = "hello";

describe("the app's webhook intake", () => {
  let redis: Redis;
  let prefix: string;
  let deps: IntakeDeps;
  let app: RunningApp;

  beforeAll(() => {
    redis = connectRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(async () => {
    prefix = randomPrefix();
    deps = intakeDeps(redis, prefix);
    app = await startAppServer(deps);
  });
  afterEach(async () => {
    await app.stop();
    await closeIntakeDeps(deps);
    await deletePrefix(redis, prefix);
  });

  it("a claude label from a writer queues one task on general and answers before any GitHub write", async () => {
    nockInstallationToken();
    nockNoRepoConfig(OWNER, REPO);
    nockPermission(OWNER, REPO, "maintainer", "write");
    const response = await deliver(app.url, "issues", labeledPayload("claude"));
    expect(response.status).toBe(200);

    const jobs = await waitingJobs(redis, prefix, "tasks-general");
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.id).toBe(`${OWNER}/${REPO}#7@1`);
    expect(jobs[0]!.data).toMatchObject({ taskId: `${OWNER}/${REPO}#7`, branch: "claude/issue-7-add-a-changelog-entry", specialty: "general" });
    expect(JSON.stringify(jobs[0]!.data)).not.toMatch(/ghs_|token/i);
    expect(await pendingEvents(redis, prefix)).toEqual([{ type: "task-changed", taskId: `${OWNER}/${REPO}#7` }]);
    expect((await deps.store.get(`${OWNER}/${REPO}#7`))?.state).toBe("queued");
  });

  it("a second label on a queued issue does not enqueue twice and says it is already queued", async () => {
    nockInstallationToken();
    nockNoRepoConfig(OWNER, REPO);
    nockPermission(OWNER, REPO, "maintainer", "write");
    await deliver(app.url, "issues", labeledPayload("claude"));
    await deliver(app.url, "issues", labeledPayload("claude:backend"));

    expect(await waitingJobs(redis, prefix, "tasks-general")).toHaveLength(1);
    const replies = (await pendingEvents(redis, prefix)).filter((e) => e.type === "reply");
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain("already on this issue (queued)");
  });

  it("a redelivered webhook (same X-GitHub-Delivery) is handled once", async () => {
    nockInstallationToken();
    nockNoRepoConfig(OWNER, REPO);
    nockPermission(OWNER, REPO, "maintainer", "write");
    await deliver(app.url, "issues", labeledPayload("claude"), "delivery-1");
    await deliver(app.url, "issues", labeledPayload("claude"), "delivery-1");
    expect(await waitingJobs(redis, prefix, "tasks-general")).toHaveLength(1);
    expect((await pendingEvents(redis, prefix)).filter((e) => e.type === "reply")).toHaveLength(0);
  });

  it("a delivery that failed on a GitHub error is handled when it is redelivered, not dropped as a duplicate", async () => {
    nockInstallationToken();
    nockNoRepoConfig(OWNER, REPO);
    const { default: nock } = await import("nock");
    nock("https://api.github.com").get(`/repos/${OWNER}/${REPO}/collaborators/maintainer/permission`).reply(502, { message: "Bad Gateway" });
    const failed = await deliver(app.url, "issues", labeledPayload("claude"), "delivery-flaky");
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(await waitingJobs(redis, prefix, "tasks-general")).toHaveLength(0);

    nockPermission(OWNER, REPO, "maintainer", "write");
    const again = await deliver(app.url, "issues", labeledPayload("claude"), "delivery-flaky");
    expect(again.status).toBe(200);
    expect(await waitingJobs(redis, prefix, "tasks-general")).toHaveLength(1);
  });

  it("a user with read access gets no reply, at most a 👎 on the issue, and nothing is queued", async () => {
    nockInstallationToken();
    nockNoRepoConfig(OWNER, REPO);
    nockPermission(OWNER, REPO, "visitor", "read");
    await deliver(app.url, "issues", labeledPayload("claude", { sender: "visitor" }));
    expect(await waitingJobs(redis, prefix, "tasks-general")).toHaveLength(0);
    expect(await pendingEvents(redis, prefix)).toEqual([{ type: "react", installationId: 4242, owner: OWNER, repo: REPO, issueNumber: 7, content: "-1" }]);
  });

  it("bots never trigger, the app's own state labels included", async () => {
    await deliver(app.url, "issues", labeledPayload("claude", { senderType: "Bot", sender: "claude-code-cluster[bot]" }));
    await deliver(app.url, "issues", labeledPayload("claude:queued"));
    expect(await waitingJobs(redis, prefix, "tasks-general")).toHaveLength(0);
    expect(await pendingEvents(redis, prefix)).toHaveLength(0);
  });

  it("a bad config file gets a comment naming the field, and defaults are not used instead", async () => {
    nockInstallationToken();
    nockPermission(OWNER, REPO, "maintainer", "write");
    nockRepoConfig(OWNER, REPO, "maxTurns: lots\ndefaultPriority: whenever\n");
    await deliver(app.url, "issues", labeledPayload("claude"));
    expect(await waitingJobs(redis, prefix, "tasks-general")).toHaveLength(0);
    const [event] = await pendingEvents(redis, prefix);
    expect(event?.body).toContain("`maxTurns`");
    expect(event?.body).toContain("`defaultPriority`");
  });

  it("a config file over 64 KiB is refused with a comment naming the limit, and nothing is queued", async () => {
    nockInstallationToken();
    nockPermission(OWNER, REPO, "maintainer", "write");
    nockRepoConfig(OWNER, REPO, `maxTurns: 10\n${"# padding\n".repeat(7000)}`);
    await deliver(app.url, "issues", labeledPayload("claude"));
    expect(await waitingJobs(redis, prefix, "tasks-general")).toHaveLength(0);
    const [event] = await pendingEvents(redis, prefix);
    expect(event?.body).toContain("`.github/claude-cluster.yml` is not valid");
    expect(event?.body).toContain("the file is 69 KiB; the limit is 64 KiB");
    // What is cached is the verdict, not the file.
    expect((await redis.get(`${prefix}:repo-config:${OWNER}/${REPO}`))?.length).toBeLessThan(100);
  });

  it("the repo's trigger label and label map pick the specialty when an agent serves it", async () => {
    nockInstallationToken();
    nockRepoConfig(OWNER, REPO, "triggerLabel: ai\nlabels:\n  ui: frontend\n");
    nockPermission(OWNER, REPO, "maintainer", "admin");
    await deps.registry.heartbeat(
      {
        name: "pc-1",
        host: "h",
        account: "a",
        specialties: ["frontend"],
        concurrency: 1,
        state: "idle",
        tasks: [],
        startedAt: 0,
        lastSeen: Date.now(),
        version: "t",
      },
      30,
    );
    await deliver(app.url, "issues", labeledPayload("ai", { labels: ["ui"] }));
    const jobs = await waitingJobs(redis, prefix, "tasks-frontend");
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.data.reason).toMatch(/ui/);
  });

  it("`/claude run backend priority:high` with no backend agent alive falls back to general at high priority", async () => {
    nockInstallationToken();
    nockNoRepoConfig(OWNER, REPO);
    nockPermission(OWNER, REPO, "maintainer", "maintain");
    const { default: nock } = await import("nock");
    nock("https://api.github.com")
      .get(`/repos/${OWNER}/${REPO}/issues/7/comments`)
      .query(true)
      .reply(200, [
        { id: 500, body: "Earlier context from the reporter", user: { login: "reporter", type: "User" }, created_at: "2026-01-01T00:00:00Z" },
        { id: 555, body: "/claude run backend priority:high", user: { login: "maintainer", type: "User" }, created_at: "2026-01-01T00:01:00Z" },
        { id: 600, body: "written after the trigger", user: { login: "someone", type: "User" }, created_at: "2026-01-01T00:02:00Z" },
      ]);
    await deliver(app.url, "issue_comment", commentPayload("/claude run backend priority:high", { comments: 3 }));
    const jobs = await waitingJobs(redis, prefix, "tasks-general");
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.data).toMatchObject({ specialty: "general", priority: "high" });
    expect(jobs[0]!.data.reason).toMatch(/no live agent serves backend/);
    expect(jobs[0]!.data.comments.map((c: { body: string }) => c.body)).toEqual(["Earlier context from the reporter", "/claude run backend priority:high"]);
    expect(jobs[0]!.opts.priority).toBe(2);
  });

  it("a malformed command from a writer gets a reply with what would work", async () => {
    nockInstallationToken();
    nockPermission(OWNER, REPO, "maintainer", "write");
    await deliver(app.url, "issue_comment", commentPayload("/claude run priority:high priority:low"));
    const [event] = await pendingEvents(redis, prefix);
    expect(event?.type).toBe("reply");
    expect(event?.body).toMatch(/twice/);
    expect(event?.body).toMatch(/\/claude/);
  });

  it("a command inside a code block is not a command", async () => {
    await deliver(app.url, "issue_comment", commentPayload("Try this:\n```\n/claude run\n```"));
    expect(await pendingEvents(redis, prefix)).toHaveLength(0);
  });

  it("`/claude cancel` removes a queued task and marks it cancelled", async () => {
    nockInstallationToken();
    nockNoRepoConfig(OWNER, REPO);
    nockPermission(OWNER, REPO, "maintainer", "write");
    await deliver(app.url, "issues", labeledPayload("claude"));
    await deliver(app.url, "issue_comment", commentPayload("/claude cancel"));
    expect(await waitingJobs(redis, prefix, "tasks-general")).toHaveLength(0);
    expect((await deps.store.get(`${OWNER}/${REPO}#7`))?.state).toBe("cancelled");
  });

  it("`/claude help` answers a writer with the command list", async () => {
    nockInstallationToken();
    nockPermission(OWNER, REPO, "maintainer", "write");
    await deliver(app.url, "issue_comment", commentPayload("/claude help"));
    const [event] = await pendingEvents(redis, prefix);
    expect(event?.body).toContain("/claude run");
    expect(event?.body).toContain("/claude cancel");
  });
});
