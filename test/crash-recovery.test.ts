import type { Redis } from "ioredis";
import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { Reporter } from "../src/reporter/reporter.js";
import { startAgentProcess, waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { TestOctokit } from "./helpers/app-server.js";
import { createOrigin, listBranches, type Origin } from "./helpers/git-origin.js";
import { API } from "./helpers/github-nock.js";
import { closeIntakeDeps, intakeDeps } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { enqueueDirect } from "./helpers/tasks.js";

const OWNER = "octo-org";
const REPO = "hello";

describe("an agent that dies mid-task", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let deps: IntakeDeps;
  let origin: Origin;
  let reporter: Reporter;
  const agents: AgentProcess[] = [];
  // A short lock so the test does not wait a minute for BullMQ to notice the dead agent.
  const lock = { CCC_LOCK_SECONDS: "3" };

  beforeAll(async () => {
    redis = connectRedis();
    deps = intakeDeps(redis, prefix);
    origin = await createOrigin();
    reporter = new Reporter({
      connection: redis,
      prefix,
      store: deps.store,
      getOctokit: async () => new TestOctokit({ auth: "test" }),
      coalesceMs: 200,
    });
    reporter.start();
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await reporter.close();
    await closeIntakeDeps(deps);
    await origin.cleanup();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  function nockTaskWrites(issue: number, pulls: unknown[]): void {
    nock(API)
      .persist()
      .post(`/repos/${OWNER}/${REPO}/issues/${issue}/comments`)
      .reply(201, { id: issue * 100 });
    nock(API)
      .persist()
      .patch(`/repos/${OWNER}/${REPO}/issues/comments/${issue * 100}`)
      .reply(200, {});
    nock(API).persist().post(`/repos/${OWNER}/${REPO}/issues/${issue}/labels`).reply(200, []);
    // Whether an old state label is removed depends on which renders coalesce: optional.
    nock(API)
      .persist()
      .delete(new RegExp(`/issues/${issue}/labels/.+`))
      .optionally()
      .reply(200, []);
    nock(API)
      .persist()
      .get(`/repos/${OWNER}/${REPO}/pulls`)
      .query(true)
      .reply(200, () => (pulls.length > 0 ? [{ number: 70, html_url: "https://github.com/pr/70", head: {} }] : []));
    nock(API)
      .persist()
      .post(`/repos/${OWNER}/${REPO}/pulls`)
      .reply(201, (_uri, body) => {
        pulls.push(body);
        return { number: 70, html_url: "https://github.com/pr/70" };
      });
  }

  it("kill -9: another agent runs the task after the lock expires, and it ends in exactly one PR", async () => {
    const pulls: unknown[] = [];
    nockTaskWrites(71, pulls);
    const doomed = await startAgentProcess({ name: "doomed", prefix, redis, env: { ...lock, FAKE_CLAUDE_DELAY_MS: "60000" } });
    agents.push(doomed);
    const task = await enqueueDirect(deps, { number: 71, cloneUrl: origin.url });
    await waitFor("the doomed agent to run the task", async () => (await deps.store.get(task.taskId))?.agent === "doomed");

    doomed.child.kill("SIGKILL");
    agents.push(await startAgentProcess({ name: "survivor", prefix, redis, env: lock }));
    await waitFor("the task's PR", async () => (await deps.store.get(task.taskId))?.state === "pr-open", 40_000);
    expect((await deps.store.get(task.taskId))?.agent).toBe("survivor");
    expect(pulls).toHaveLength(1);
    expect((await listBranches(origin.dir)).filter((b) => b === task.branch)).toHaveLength(1);
    await Promise.all(agents.splice(0).map((a) => a.stop()));
  }, 60_000);

  it("a run longer than the lock keeps it while its agent lives and is never handed to a second agent", async () => {
    const pulls: unknown[] = [];
    nockTaskWrites(72, pulls);
    const slow = await startAgentProcess({ name: "slow-lock", prefix, redis, env: { ...lock, FAKE_CLAUDE_DELAY_MS: "9000" } });
    agents.push(slow);
    const task = await enqueueDirect(deps, { number: 72, cloneUrl: origin.url });
    await waitFor("the slow agent to run the task", async () => (await deps.store.get(task.taskId))?.agent === "slow-lock");
    const idle = await startAgentProcess({ name: "idle-watcher", prefix, redis, env: lock });
    agents.push(idle);

    const seenBy = new Set<string>();
    await waitFor(
      "the task's PR",
      async () => {
        const record = await deps.store.get(task.taskId);
        if (record?.agent) seenBy.add(record.agent);
        for (const agent of await deps.registry.list()) if (agent.tasks.includes(task.taskId)) seenBy.add(agent.name);
        return record?.state === "pr-open";
      },
      40_000,
    );
    expect([...seenBy]).toEqual(["slow-lock"]);
    expect(pulls).toHaveLength(1);
  }, 60_000);
});
