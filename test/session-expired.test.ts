import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { Reporter } from "../src/reporter/reporter.js";
import { CCC_BIN, startAgentProcess, waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { deliver, startAppServer, type RunningApp } from "./helpers/app-server.js";
import { createOrigin, type Origin } from "./helpers/git-origin.js";
import { API, nockInstallationToken } from "./helpers/github-nock.js";
import { closeIntakeDeps, eventsDrained, intakeDeps, waitingJobs } from "./helpers/intake.js";
import { examplePayload, shapeIssuePayload } from "./helpers/payloads.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { enqueueDirect } from "./helpers/tasks.js";

const OWNER = "octo-org";
const REPO = "hello";

function closedSessionIssue() {
  // The examples have no issues.closed; a reopened one differs only in action and state.
  const payload = shapeIssuePayload(examplePayload("issues", "reopened"), {
    number: 900,
    title: "pc-2: Claude session expired",
    labels: ["session-timeout", "urgent"],
  });
  payload.action = "closed";
  payload.issue.state = "closed";
  return payload;
}

describe("an agent whose Claude session expired", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let deps: IntakeDeps;
  let app: RunningApp;
  let reporter: Reporter;
  let origin: Origin;
  let dir: string;
  let scenarioFile: string;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    redis = connectRedis();
    deps = intakeDeps(redis, prefix);
    origin = await createOrigin();
    app = await startAppServer(deps);
    reporter = new Reporter({ connection: redis, prefix, store: deps.store, getOctokit: (id) => app.probot.auth(id), coalesceMs: 200 });
    reporter.start();
    dir = await mkdtemp(join(tmpdir(), "ccc-session-"));
    scenarioFile = join(dir, "scenario");
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await reporter.close();
    await app.stop();
    await closeIntakeDeps(deps);
    await origin.cleanup();
    await rm(dir, { recursive: true, force: true });
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("opens one session-timeout issue, keeps the task, and resumes when the issue is closed after a new login", async () => {
    nockInstallationToken();
    // The task's tracking comment and labels, whatever they say along the way.
    nock(API).persist().post(`/repos/${OWNER}/${REPO}/issues/41/comments`).reply(201, { id: 4100 });
    nock(API).persist().patch(`/repos/${OWNER}/${REPO}/issues/comments/4100`).reply(200, { id: 4100 });
    nock(API).persist().post(`/repos/${OWNER}/${REPO}/issues/41/labels`).reply(200, []);
    nock(API)
      .persist()
      .delete(/\/issues\/41\/labels\/.+/)
      .reply(200, []);
    const created: Array<{ title: string; body: string; labels: string[] }> = [];
    nock(API)
      .persist()
      .post(`/repos/${OWNER}/${REPO}/issues`)
      .reply(201, (_uri, body) => {
        created.push(body as (typeof created)[number]);
        return { number: 900, html_url: `https://github.com/${OWNER}/${REPO}/issues/900` };
      });
    const sessionComments: string[] = [];
    nock(API)
      .persist()
      .post(`/repos/${OWNER}/${REPO}/issues/900/comments`)
      .reply(201, (_uri, body) => {
        sessionComments.push((body as { body: string }).body);
        return { id: 9001 };
      });
    nock(API).patch(`/repos/${OWNER}/${REPO}/issues/900`, { state: "open" }).reply(200, { number: 900, state: "open" });
    nock(API).get(`/repos/${OWNER}/${REPO}/pulls`).query(true).reply(200, []);
    const pulls: unknown[] = [];
    nock(API)
      .post(`/repos/${OWNER}/${REPO}/pulls`)
      .reply(201, (_uri, body) => {
        pulls.push(body);
        return { number: 42, html_url: `https://github.com/${OWNER}/${REPO}/pull/42` };
      });

    // 1. Logged in at start, then the login expires before the task runs.
    await writeFile(scenarioFile, "edit");
    const env = { FAKE_CLAUDE_SCENARIO_FILE: scenarioFile };
    agents.push(await startAgentProcess({ name: "pc-2", prefix, redis, env }));
    await waitFor("pc-2 to be idle", async () => (await deps.registry.list()).find((a) => a.name === "pc-2")?.state === "idle");
    await writeFile(scenarioFile, "not-logged-in");
    const data = await enqueueDirect(deps, { number: 41, cloneUrl: origin.url });

    // 2. The agent parks itself; the task waits on the queue with its attempts intact.
    await waitFor("pc-2 to report session-expired", async () => (await deps.registry.list()).find((a) => a.name === "pc-2")?.state === "session-expired");
    const waiting = await waitFor("the task to wait", async () => {
      const record = await deps.store.get(data.taskId);
      return record?.state === "waiting" ? record : undefined;
    });
    expect(waiting.waitingFor).toContain("a new Claude login on pc-2");
    const [job] = await waitingJobs(redis, prefix, "tasks-general");
    expect(job?.attemptsMade).toBe(0);

    // 3. One issue, with the host, the CLI's words and the exact steps.
    await waitFor("the session-timeout issue", async () => created.length === 1);
    expect(created[0]!.title).toBe("pc-2: Claude session expired");
    expect(created[0]!.labels).toEqual(["session-timeout", "urgent"]);
    expect(created[0]!.body).toContain("Not logged in · Please run /login");
    expect(created[0]!.body).toContain("run `claude /login`");
    expect(created[0]!.body).toContain("Close this issue");

    // 4. More failures of that agent (here: a restart whose login probe fails) open no second issue.
    await agents.pop()!.stop();
    agents.push(await startAgentProcess({ name: "pc-2", prefix, redis, env }));
    await waitFor(
      "the restarted pc-2 to report session-expired",
      async () => (await deps.registry.list()).find((a) => a.name === "pc-2")?.state === "session-expired",
    );
    await waitFor("the reporter to handle every event", () => eventsDrained(redis, prefix));
    expect(created).toHaveLength(1);

    // 5. Closed without a new login: the agent checks, and the issue is reopened with the message.
    await deliver(app.url, "issues", closedSessionIssue());
    await waitFor("the reopen comment", async () => sessionComments.some((c) => c.includes("still fails")));
    expect((await deps.registry.list()).find((a) => a.name === "pc-2")?.state).toBe("session-expired");

    // 6. Logged in again and closed: resumed, and the waiting task runs to its PR.
    await writeFile(scenarioFile, "edit");
    await deliver(app.url, "issues", closedSessionIssue());
    await waitFor("the resumed comment", async () => sessionComments.some((c) => c.includes("resumed")));
    await waitFor("the task's pull request", async () => (await deps.store.get(data.taskId))?.state === "pr-open", 30_000);
    expect(pulls).toHaveLength(1);
    expect(created).toHaveLength(1);
  }, 90_000);

  it("`ccc resume --agent` checks the login without GitHub: still failing exits 1, after a login exits 0 and the agent works", async () => {
    const file = join(dir, "scenario-cli");
    await writeFile(file, "not-logged-in");
    agents.push(await startAgentProcess({ name: "pc-9", prefix, redis, env: { FAKE_CLAUDE_SCENARIO_FILE: file } }));
    await waitFor("pc-9 to start session-expired", async () => (await deps.registry.list()).find((a) => a.name === "pc-9")?.state === "session-expired");
    const env = { ...process.env, REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", CCC_PREFIX: prefix };

    const still = spawnSync(process.execPath, [CCC_BIN, "resume", "--agent", "pc-9"], { env, encoding: "utf8", timeout: 60_000 });
    expect(still.status).toBe(1);
    expect(still.stderr).toContain("Not logged in");
    expect(still.stderr).toContain("claude /login");

    await writeFile(file, "edit");
    const ok = spawnSync(process.execPath, [CCC_BIN, "resume", "--agent", "pc-9"], { env, encoding: "utf8", timeout: 60_000 });
    expect(ok.stdout).toContain("pc-9: Claude login works");
    expect(ok.status).toBe(0);
    await waitFor("pc-9 to be idle", async () => (await deps.registry.list()).find((a) => a.name === "pc-9")?.state === "idle");

    const unknown = spawnSync(process.execPath, [CCC_BIN, "resume", "--agent", "nobody"], { env, encoding: "utf8", timeout: 60_000 });
    expect(unknown.status).toBe(1); // well-formed, but no such agent: a failure, not bad usage
    expect(unknown.stderr).toContain("No live agent named nobody");
  }, 90_000);
});
