import type { Redis } from "ioredis";
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { ACTIONS_QUEUE } from "../src/dispatcher/actions-queue.js";
import type { Dispatcher } from "../src/dispatcher/dispatcher.js";
import { ACTIONS_OWNER as OWNER, ACTIONS_REPO as REPO, enqueueActionsTask, runner, testDispatcher } from "./helpers/actions-tasks.js";
import { API, nockNoRepoConfig, nockRepoConfig } from "./helpers/github-nock.js";
import { closeIntakeDeps, intakeDeps, pendingEvents, waitingJobs } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const RUNNERS = `/repos/${OWNER}/${REPO}/actions/runners`;
const DISPATCH = `/repos/${OWNER}/${REPO}/actions/workflows/claude-agent.yml/dispatches`;

describe("the dispatcher of self-hosted runner mode", () => {
  let redis: Redis;
  let prefix: string;
  let deps: IntakeDeps;
  let clock: number;
  let dispatcher: Dispatcher;

  function newDispatcher(): Dispatcher {
    return testDispatcher(deps, {
      now: () => clock,
      // Every tick asks GitHub again, so each test states exactly what the runners look like.
      runnerCacheSeconds: 0,
      configCacheSeconds: 60,
    });
  }

  const runnersReply = (...runners: ReturnType<typeof runner>[]) => nock(API).get(RUNNERS).query(true).reply(200, { total_count: runners.length, runners });

  beforeAll(() => {
    redis = connectRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    prefix = randomPrefix();
    deps = intakeDeps(redis, prefix);
    clock = Date.now();
    dispatcher = newDispatcher();
  });
  afterEach(async () => {
    await dispatcher.close();
    await closeIntakeDeps(deps);
    await deletePrefix(redis, prefix);
  });

  it("dispatches nothing while no online, idle runner carries the task's labels", async () => {
    await enqueueActionsTask(deps, { number: 1, specialty: "backend" });
    runnersReply(
      runner(1, "pc-busy", ["self-hosted", "claude", "backend"], { busy: true }),
      runner(2, "pc-off", ["self-hosted", "claude", "backend"], { status: "offline" }),
      runner(3, "pc-front", ["self-hosted", "claude", "frontend"]),
      runner(4, "ci-box", ["self-hosted", "linux", "backend"]),
    );
    const result = await dispatcher.tick();

    expect(result.dispatched).toEqual([]);
    expect((await waitingJobs(redis, prefix, ACTIONS_QUEUE)).map((j) => j.id)).toEqual(["octo-org/hello#1@1"]);
    expect((await deps.store.get("octo-org/hello#1"))?.state).toBe("queued");
  });

  it("dispatches the workflow once per task, with the task's inputs, when an idle runner has the labels", async () => {
    // The repository's settings, signed with the task, reach the job as inputs.
    await enqueueActionsTask(deps, {
      number: 2,
      specialty: "backend",
      settings: { permissionMode: "plan", draftPullRequest: true, role: "Be brief.", model: "opus" },
    });
    runnersReply(runner(1, "pc-2", ["self-hosted", "Claude", "backend", "testing"]));
    nockNoRepoConfig(OWNER, REPO);
    let inputs: Record<string, string> | undefined;
    nock(API)
      .post(DISPATCH, (body: { ref: string; inputs: Record<string, string> }) => {
        inputs = body.inputs;
        return body.ref === "main";
      })
      .reply(204);

    expect((await dispatcher.tick()).dispatched).toEqual(["octo-org/hello#2"]);
    expect(inputs).toMatchObject({
      "issue-number": "2",
      "task-id": "octo-org/hello#2",
      run: "1",
      specialty: "backend",
      "max-turns": "7",
      "timeout-minutes": "20",
      "allowed-tools": "Edit,Read",
      model: "opus",
      "permission-mode": "plan",
      "draft-pull-request": "true",
      role: "Be brief.",
    });
    expect(inputs?.["dispatch-id"]).toMatch(/^[a-f0-9]{16}$/);
    expect(await waitingJobs(redis, prefix, ACTIONS_QUEUE)).toEqual([]);

    // The runner still looks idle (its job has not started): the task is not dispatched again.
    expect((await dispatcher.tick()).dispatched).toEqual([]);
  });

  it("promises one idle runner to one task: a second task waits for another runner", async () => {
    await enqueueActionsTask(deps, { number: 3 });
    await enqueueActionsTask(deps, { number: 4 });
    runnersReply(runner(1, "pc-2", ["self-hosted", "claude", "backend"]));
    runnersReply(runner(1, "pc-2", ["self-hosted", "claude", "backend"]));
    nockNoRepoConfig(OWNER, REPO);
    nock(API).post(DISPATCH).reply(204);

    // Queued in the same millisecond, the two are equals: either may go first, but only one goes.
    const result = await dispatcher.tick();
    expect(result.dispatched).toHaveLength(1);
    const [first] = result.dispatched;
    const other = first === "octo-org/hello#3" ? "octo-org/hello#4" : "octo-org/hello#3";
    expect(["octo-org/hello#3", "octo-org/hello#4"]).toContain(first);
    expect((await waitingJobs(redis, prefix, ACTIONS_QUEUE)).map((j) => j.id)).toEqual([`${other}@1`]);
  });

  it("re-queues a dispatch that no runner started within the configured time, and fails the task after three tries", async () => {
    await enqueueActionsTask(deps, { number: 5 });
    nockRepoConfig(OWNER, REPO, "mode: actions\nactions:\n  dispatchTimeoutMinutes: 2\n  ref: release\n");
    for (let attempt = 1; attempt <= 3; attempt++) {
      runnersReply(runner(1, "pc-2", ["self-hosted", "claude", "backend"]));
      nock(API)
        .post(DISPATCH, (body: { ref: string }) => body.ref === "release")
        .reply(204);
      expect((await dispatcher.tick()).dispatched).toEqual(["octo-org/hello#5"]);

      clock += 60_000; // not yet overdue
      expect(await dispatcher.tick()).toEqual({ dispatched: [], requeued: [], cancelled: [] });

      clock += 61_000;
      const result = await dispatcher.tick();
      if (attempt < 3) {
        expect(result.requeued).toEqual(["octo-org/hello#5"]);
        expect((await waitingJobs(redis, prefix, ACTIONS_QUEUE)).map((j) => j.id)).toEqual(["octo-org/hello#5@1"]);
      } else {
        expect(result.requeued).toEqual([]);
      }
    }
    const record = await deps.store.get("octo-org/hello#5");
    expect(record?.state).toBe("failed");
    expect(record?.failure?.message).toMatch(/no self-hosted runner started the workflow within 2 min, 3 times.*self-hosted, claude, backend/);
    expect((await pendingEvents(redis, prefix)).map((e) => e.type)).toContain("task-changed");
    expect(await waitingJobs(redis, prefix, ACTIONS_QUEUE)).toEqual([]);
  });

  it("drops the job of a task cancelled while it waited for a runner", async () => {
    await enqueueActionsTask(deps, { number: 6 });
    await deps.store.update("octo-org/hello#6", { state: "cancelled" });
    expect((await dispatcher.tick()).dispatched).toEqual([]);
    expect(await waitingJobs(redis, prefix, ACTIONS_QUEUE)).toEqual([]);
  });

  it("fails the task with a fix when GitHub refuses the dispatch (workflow missing)", async () => {
    await enqueueActionsTask(deps, { number: 8 });
    runnersReply(runner(1, "pc-2", ["self-hosted", "claude", "backend"]));
    nockNoRepoConfig(OWNER, REPO);
    nock(API).post(DISPATCH).reply(404, { message: "Not Found" });
    expect((await dispatcher.tick()).dispatched).toEqual([]);
    const record = await deps.store.get("octo-org/hello#8");
    expect(record?.state).toBe("failed");
    expect(record?.failure?.message).toMatch(/could not start the workflow `claude-agent.yml` on `main`.*actions.workflow/);
  });

  it("only one of two app replicas dispatches a task", async () => {
    await enqueueActionsTask(deps, { number: 9 });
    runnersReply(runner(1, "pc-2", ["self-hosted", "claude", "backend"]));
    runnersReply(runner(1, "pc-2", ["self-hosted", "claude", "backend"])).persist();
    nockNoRepoConfig(OWNER, REPO);
    const dispatches = nock(API).post(DISPATCH).reply(204);
    const other = newDispatcher();
    const results = await Promise.all([dispatcher.tick(), other.tick()]);
    expect(results.flatMap((r) => r.dispatched)).toEqual(["octo-org/hello#9"]);
    expect(dispatches.isDone()).toBe(true);
    nock.cleanAll();
  });
});
