import { Writable } from "node:stream";
import type { Redis } from "ioredis";
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { ACTIONS_QUEUE } from "../src/dispatcher/actions-queue.js";
import { DispatchStore, type DispatchRecord } from "../src/store/dispatch-store.js";
import { eventMismatch, runMismatch } from "../src/dispatcher/handle-workflow-events.js";
import { createLogger } from "../src/shared/logger.js";
import {
  ACTIONS_OWNER as OWNER,
  ACTIONS_REPO as REPO,
  ACTIONS_WORKFLOW_PATH,
  dispatchActionsTask,
  testDispatcher,
  workflowJobPayload,
  workflowRun,
  workflowRunPayload,
  type RunOriginOptions,
  type WorkflowEventOptions,
} from "./helpers/actions-tasks.js";
import { deliver, startAppServer, type RunningApp } from "./helpers/app-server.js";
import { API, nockInstallationToken } from "./helpers/github-nock.js";
import { closeIntakeDeps, intakeDeps, pendingEvents, waitingJobs } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const TASK = `${OWNER}/${REPO}#12`;
const ISSUE = `/repos/${OWNER}/${REPO}/issues/12`;
const RUN_ID = 7001;
const OTHER_RUN_ID = 7002;
const IGNORED = "workflow event ignored: it carries the dispatch's tag but is not its run";
/** A fork of the repository: its workflows can copy any run name, tag and all. */
const FORK = `mallory/${REPO}`;

describe("matching a workflow event to its dispatch", () => {
  const dispatch = { owner: "Octo-Org", repo: "Hello" } as DispatchRecord;
  const ours = { path: ACTIONS_WORKFLOW_PATH, event: "workflow_dispatch", headRepository: "octo-org/hello" };

  it.each<[string, Partial<DispatchRecord>, string, number, string | undefined]>([
    ["the dispatch's repository, in any case, before the run id is known", {}, "octo-org/HELLO", 1, undefined],
    ["another repository", {}, "octo-org/hello-fork", 1, "the event is from octo-org/hello-fork, the dispatch went to Octo-Org/Hello"],
    ["the dispatch's known run", { runId: 5 }, "octo-org/hello", 5, undefined],
    ["another run once the run id is known", { runId: 5 }, "octo-org/hello", 6, "run 6 is not the dispatch's run 5"],
  ])("an event from %s", (_, known, repository, runId, mismatch) => {
    expect(eventMismatch({ ...dispatch, ...known }, repository, runId)).toBe(mismatch);
  });

  it.each<[string, Partial<typeof ours>, string | undefined]>([
    ["the dispatched workflow, on the repository's own code", {}, undefined],
    ["another workflow file", { path: ".github/workflows/ci.yml" }, `the run is of .github/workflows/ci.yml, not of ${ACTIONS_WORKFLOW_PATH}`],
    ["a pull request", { event: "pull_request" }, "the run was started by pull_request, not by workflow_dispatch"],
    ["a fork's code", { headRepository: "mallory/hello" }, "the run's code comes from mallory/hello, not from Octo-Org/Hello"],
    ["no known code", { headRepository: undefined }, "the run's code comes from no repository, not from Octo-Org/Hello"],
  ])("a run of %s", (_, origin, mismatch) => {
    expect(runMismatch(dispatch, ACTIONS_WORKFLOW_PATH, { ...ours, ...origin })).toBe(mismatch);
  });
});

describe("workflow events count only when they are the dispatch's own run", () => {
  let redis: Redis;
  let prefix: string;
  let deps: IntakeDeps;
  let app: RunningApp;
  let dispatches: DispatchStore;
  let dispatchId: string;
  /** The app's log lines, parsed. */
  let logged: Array<Record<string, unknown>>;
  /**
   * GitHub calls no mock answered: every one the app made that the test did not expect. Tests that
   * expect none mock no installation token either, so even the app's first step towards a call shows.
   */
  let unexpected: string[];
  const onNoMatch = (req: { hostname?: string; host?: string; method?: string; path?: string }) => {
    // The webhook deliveries to the app on loopback pass here too.
    if (!/^(127\.0\.0\.1|localhost)\b/.test(req.hostname ?? req.host ?? "")) unexpected.push(`${req.method} ${req.path}`);
  };

  const job = (action: "queued" | "in_progress" | "completed", options: Partial<WorkflowEventOptions> = {}) =>
    workflowJobPayload(action, { dispatchId, runId: RUN_ID, ...options });
  const run = (action: "requested" | "in_progress" | "completed", options: Partial<WorkflowEventOptions> & RunOriginOptions = {}) =>
    workflowRunPayload(action, { dispatchId, runId: RUN_ID, ...options });

  /** Everything a workflow event could change: the task, its dispatch, the reporter's events and the actions queue. */
  async function state() {
    return {
      task: await deps.store.get(TASK),
      dispatch: await dispatches.get(dispatchId),
      events: await pendingEvents(redis, prefix),
      queued: (await waitingJobs(redis, prefix, ACTIONS_QUEUE)).map((j) => j.id),
    };
  }

  async function deliverAll(deliveries: Array<[event: string, payload: unknown]>): Promise<void> {
    for (const [event, payload] of deliveries) expect((await deliver(app.url, event, payload)).status).toBe(200);
  }

  beforeAll(() => {
    redis = connectRedis();
    nock.emitter.on("no match", onNoMatch);
  });
  afterAll(async () => {
    nock.emitter.off("no match", onNoMatch);
    await redis.quit();
  });
  beforeEach(async () => {
    prefix = randomPrefix();
    logged = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    deps = { ...intakeDeps(redis, prefix), log: createLogger({ level: "info", destination }) };
    app = await startAppServer(deps);
    dispatches = new DispatchStore(redis, prefix);
    unexpected = [];
    const dispatcher = testDispatcher(deps);
    dispatchId = await dispatchActionsTask(deps, dispatcher, { number: 12 });
  });
  afterEach(async () => {
    await app.stop();
    await closeIntakeDeps(deps);
    await deletePrefix(redis, prefix);
  });

  it("a job carrying the dispatch's tag in another repository changes nothing and asks GitHub nothing", async () => {
    const before = await state();
    await deliverAll([
      ["workflow_job", job("in_progress", { repository: FORK })],
      ["workflow_job", job("completed", { repository: FORK, conclusion: "failure" })],
      ["workflow_job", job("in_progress", { repository: `other-org/${REPO}`, runId: OTHER_RUN_ID })],
    ]);
    expect(await state()).toEqual(before);
    expect(before.task?.state).toBe("queued");
    expect(before.dispatch).toMatchObject({ state: "dispatched" });
    expect(before.dispatch?.runId).toBeUndefined();
    expect(unexpected).toEqual([]);
    // Each is logged with the dispatch, the repository it came from and what did not match.
    expect(logged.filter((line) => line.msg === IGNORED)).toEqual([
      expect.objectContaining({
        dispatchId,
        taskId: TASK,
        repo: FORK,
        runId: RUN_ID,
        mismatch: `the event is from ${FORK}, the dispatch went to ${OWNER}/${REPO}`,
      }),
      expect.objectContaining({ dispatchId, repo: FORK, runId: RUN_ID }),
      expect.objectContaining({ dispatchId, repo: `other-org/${REPO}`, runId: OTHER_RUN_ID }),
    ]);
  });

  it.each<[string, Partial<WorkflowEventOptions> & RunOriginOptions]>([
    ["another repository", { repository: `other-org/${REPO}` }],
    ["another workflow file", { path: ".github/workflows/ci.yml" }],
    ["a fork's pull request", { event: "pull_request", headRepository: FORK }],
    ["a pull request from a branch of the repository", { event: "pull_request" }],
    ["a push", { event: "push" }],
    ["a dispatch of a fork's code", { headRepository: FORK }],
  ])("a run tagged with the dispatch id but started by %s neither names the run nor ends the task", async (_, origin) => {
    const before = await state();
    // Completed while the dispatch waits for its job: the genuine run's completion would fail the task.
    await deliverAll([
      ["workflow_run", run("requested", origin)],
      ["workflow_run", run("completed", { ...origin, conclusion: "failure" })],
    ]);
    expect(await state()).toEqual(before);
    expect(unexpected).toEqual([]);
    expect(logged.filter((line) => line.msg === IGNORED)).toHaveLength(2);
  });

  it("the workflow path recorded on the dispatch is the one its run must have", async () => {
    // As the dispatcher records it for a repository whose `actions.workflow` is agent.yml.
    const dispatch = (await dispatches.get(dispatchId))!;
    await dispatches.save({ ...dispatch, workflowPath: ".github/workflows/agent.yml" });
    await deliverAll([["workflow_run", run("requested")]]);
    expect((await dispatches.get(dispatchId))?.runId).toBeUndefined();
    await deliverAll([["workflow_run", run("requested", { path: ".github/workflows/agent.yml" })]]);
    expect((await dispatches.get(dispatchId))?.runId).toBe(RUN_ID);
    expect(unexpected).toEqual([]);
  });

  it("once the run id is known, a job of another run in the same repository changes nothing", async () => {
    await deliverAll([["workflow_run", run("requested")]]);
    const before = await state();
    expect(before.dispatch?.runId).toBe(RUN_ID);

    await deliverAll([
      ["workflow_job", job("in_progress", { runId: OTHER_RUN_ID })],
      ["workflow_job", job("completed", { runId: OTHER_RUN_ID, conclusion: "failure" })],
      ["workflow_run", run("completed", { runId: OTHER_RUN_ID, conclusion: "failure" })],
    ]);
    expect(await state()).toEqual(before);
    expect(unexpected).toEqual([]);
  });

  it("a job seen before any run event has its run checked through the API: a run of another workflow is not adopted", async () => {
    nockInstallationToken();
    const lookup = nock(API)
      .get(`/repos/${OWNER}/${REPO}/actions/runs/${OTHER_RUN_ID}`)
      .reply(200, workflowRun({ dispatchId, runId: OTHER_RUN_ID, path: ".github/workflows/ci.yml" }));
    const before = await state();
    await deliverAll([["workflow_job", job("in_progress", { runId: OTHER_RUN_ID })]]);
    expect(lookup.isDone()).toBe(true);
    expect(await state()).toEqual(before);
    expect(unexpected).toEqual([]);
  });

  it("a job seen before any run event starts the task once the API confirms its run, whose id is then the dispatch's", async () => {
    nockInstallationToken();
    nock(API)
      .get(`/repos/${OWNER}/${REPO}/actions/runs/${RUN_ID}`)
      .reply(200, workflowRun({ dispatchId, runId: RUN_ID }));
    await deliverAll([["workflow_job", job("in_progress")]]);
    expect(await deps.store.get(TASK)).toMatchObject({ state: "running", agent: "runner pc-2" });
    expect(await dispatches.get(dispatchId)).toMatchObject({ state: "started", runId: RUN_ID, runner: "pc-2" });
    expect(unexpected).toEqual([]);
  });

  it("the genuine run and job still move the task to running and to its outcome, whatever copies arrive between", async () => {
    nockInstallationToken();
    await deliverAll([
      ["workflow_run", run("requested")],
      ["workflow_job", job("queued")],
      ["workflow_job", job("in_progress")],
    ]);
    const running = await deps.store.get(TASK);
    expect(running).toMatchObject({ state: "running", agent: "runner pc-2" });
    expect(await dispatches.get(dispatchId)).toMatchObject({ state: "started", runId: RUN_ID });

    // A fork's copy ends "its" job first: the task keeps running.
    await deliverAll([
      ["workflow_job", job("completed", { repository: FORK, conclusion: "failure" })],
      ["workflow_run", run("completed", { event: "pull_request", headRepository: FORK, conclusion: "failure" })],
    ]);
    expect((await deps.store.get(TASK))?.state).toBe("running");

    nock(API)
      .get(`${ISSUE}/labels`)
      .query(true)
      .reply(200, [{ id: 2, name: "claude:pr-open" }])
      // The Action's hidden report (usage) would be in the tracking comment; this job left none.
      .get(`${ISSUE}/comments`)
      .query(true)
      .reply(200, [])
      .get(`/repos/${OWNER}/${REPO}/pulls`)
      .query({ head: `${OWNER}:${running!.branch}`, state: "open", per_page: "1" })
      .reply(200, [{ number: 31, html_url: `https://github.com/${OWNER}/${REPO}/pull/31` }]);
    await deliverAll([
      ["workflow_job", job("completed", { conclusion: "success" })],
      ["workflow_run", run("completed", { conclusion: "success" })],
    ]);
    expect(await deps.store.get(TASK)).toMatchObject({ state: "pr-open", prNumber: 31 });
    expect(await dispatches.get(dispatchId)).toMatchObject({ state: "done", runId: RUN_ID });
    expect(unexpected).toEqual([]);
  });

  it("a superseded dispatch cancels its own run when it starts, and never a run that does not match", async () => {
    await deliverAll([["workflow_run", run("requested")]]);
    // Re-queued after its timeout: the newer dispatch owns the task.
    const expired = { ...(await dispatches.get(dispatchId))!, state: "expired" as const };
    await dispatches.save(expired);

    await deliverAll([
      ["workflow_job", job("in_progress", { repository: FORK })],
      ["workflow_job", job("in_progress", { repository: FORK, runId: OTHER_RUN_ID })],
      ["workflow_job", job("in_progress", { runId: OTHER_RUN_ID })],
    ]);
    expect(unexpected).toEqual([]);
    expect(await dispatches.get(dispatchId)).toEqual(expired);

    nockInstallationToken();
    const cancel = nock(API).post(`/repos/${OWNER}/${REPO}/actions/runs/${RUN_ID}/cancel`).reply(202, {});
    await deliverAll([["workflow_job", job("in_progress")]]);
    expect(cancel.isDone()).toBe(true);
    expect((await deps.store.get(TASK))?.state).toBe("queued");
    expect(unexpected).toEqual([]);
  });
});
