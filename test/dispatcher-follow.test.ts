import type { Redis } from "ioredis";
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { ACTIONS_QUEUE } from "../src/dispatcher/actions-queue.js";
import { DispatchStore } from "../src/store/dispatch-store.js";
import {
  ACTIONS_OWNER as OWNER,
  ACTIONS_REPO as REPO,
  dispatchActionsTask,
  testDispatcher,
  workflowJobPayload,
  workflowRunPayload,
} from "./helpers/actions-tasks.js";
import { deliver, startAppServer, type RunningApp } from "./helpers/app-server.js";
import { API, nockInstallationToken } from "./helpers/github-nock.js";
import { closeIntakeDeps, intakeDeps, pendingEvents, waitingJobs } from "./helpers/intake.js";
import { examplePayload } from "./helpers/payloads.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const TASK = `${OWNER}/${REPO}#12`;
const ISSUE = `/repos/${OWNER}/${REPO}/issues/12`;
const RUN_ID = 940463255;

/** What the dispatcher reads of the issue when the job ends: its labels, and its comments for the Action's report (none here). */
function nockJobEnd(labels: string[]): nock.Scope {
  return nock(API)
    .get(`${ISSUE}/labels`)
    .query(true)
    .reply(
      200,
      labels.map((name, i) => ({ id: i + 1, name })),
    )
    .get(`${ISSUE}/comments`)
    .query(true)
    .reply(200, []);
}

describe("following a dispatched task through workflow_job events", () => {
  let redis: Redis;
  let prefix: string;
  let deps: IntakeDeps;
  let app: RunningApp;
  let dispatchId: string;

  const jobPayload = (action: "queued" | "in_progress" | "completed", id: string, conclusion: string | null = null) =>
    workflowJobPayload(action, { dispatchId: id, runId: RUN_ID, conclusion });

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
    // A task dispatched for real by the dispatcher.
    const dispatcher = testDispatcher(deps);
    dispatchId = await dispatchActionsTask(deps, dispatcher, { number: 12 });
    nockInstallationToken();
    // GitHub tells of the dispatched run first; its id is what the job events are matched to.
    expect((await deliver(app.url, "workflow_run", workflowRunPayload("requested", { dispatchId, runId: RUN_ID }))).status).toBe(200);
    expect((await new DispatchStore(redis, prefix).get(dispatchId))?.runId).toBe(RUN_ID);
  });
  afterEach(async () => {
    await app.stop();
    await closeIntakeDeps(deps);
    await deletePrefix(redis, prefix);
  });

  async function events(): Promise<string[]> {
    return (await pendingEvents(redis, prefix)).map((e) => e.type);
  }

  it("queued → running on the runner that took the job → pr-open from the label the action set", async () => {
    expect((await deliver(app.url, "workflow_job", jobPayload("queued", dispatchId))).status).toBe(200);
    expect((await deps.store.get(TASK))?.state).toBe("queued");

    await deliver(app.url, "workflow_job", jobPayload("in_progress", dispatchId));
    const running = await deps.store.get(TASK);
    expect(running).toMatchObject({ state: "running", agent: "runner pc-2" });

    nockJobEnd(["claude", "claude:pr-open"])
      .get(`/repos/${OWNER}/${REPO}/pulls`)
      .query({ head: `${OWNER}:${running!.branch}`, state: "open", per_page: "1" })
      .reply(200, [{ number: 31, html_url: `https://github.com/${OWNER}/${REPO}/pull/31` }]);
    await deliver(app.url, "workflow_job", jobPayload("completed", dispatchId, "success"));
    expect(await deps.store.get(TASK)).toMatchObject({ state: "pr-open", prNumber: 31, prUrl: `https://github.com/${OWNER}/${REPO}/pull/31` });
    // The action already wrote the comment and label: the reporter is not asked to write over them.
    expect(await events()).toEqual([]);
  });

  it("a job that ended without the action reporting fails the task with a link to the job", async () => {
    await deliver(app.url, "workflow_job", jobPayload("in_progress", dispatchId));
    nockJobEnd(["claude", "claude:running"]);
    const completed = jobPayload("completed", dispatchId, "cancelled");
    await deliver(app.url, "workflow_job", completed);
    const record = await deps.store.get(TASK);
    expect(record?.state).toBe("failed");
    expect(record?.failure?.message).toContain(`ended "cancelled" before the task reported its outcome; see ${completed.workflow_job.html_url}`);
    expect(await events()).toEqual(["task-changed"]);
  });

  it("a job whose task was cancelled and asked for again while its end was being read leaves the new run alone", async () => {
    await deliver(app.url, "workflow_job", jobPayload("in_progress", dispatchId));
    const first = (await deps.store.get(TASK))!;
    const { run: _run, version: _version, jobId: _jobId, ...fields } = first;
    nock(API)
      .get(`${ISSUE}/labels`)
      .query(true)
      // While the app reads the issue, someone cancels the task and a new run is queued.
      .reply((_uri, _body, callback) => {
        void deps.store
          .update(TASK, { state: "cancelled", failure: { kind: "cancelled", message: "cancelled by alice" } })
          .then(() => deps.store.claim({ ...fields, state: "queued", agent: undefined, startedAt: undefined, failure: undefined, queuedAt: Date.now() }))
          .then(
            () => callback(null, [200, [{ id: 1, name: "claude:running" }]]),
            (error: Error) => callback(error, [500, {}]),
          );
      })
      .get(`${ISSUE}/comments`)
      .query(true)
      .reply(200, []);
    await deliver(app.url, "workflow_job", jobPayload("completed", dispatchId, "cancelled"));
    const record = await deps.store.get(TASK);
    expect(record).toMatchObject({ run: 2, state: "queued" });
    expect(record?.failure).toBeUndefined();
  });

  it("a job that ended waiting (usage limit, expired login) puts the task back on the queue for later", async () => {
    await deliver(app.url, "workflow_job", jobPayload("in_progress", dispatchId));
    nockJobEnd(["claude:waiting"]);
    await deliver(app.url, "workflow_job", jobPayload("completed", dispatchId, "success"));
    expect((await deps.store.get(TASK))?.state).toBe("waiting");
    const jobs = await waitingJobs(redis, prefix, ACTIONS_QUEUE);
    expect(jobs.map((j) => [j.id, j.delay])).toEqual([[`${TASK}@1`, 15 * 60_000]]);
  });

  it("a job that ended waiting whose dispatch record was altered in Redis is not queued again: the task fails and says why", async () => {
    await deliver(app.url, "workflow_job", jobPayload("in_progress", dispatchId));
    // An attacker with Redis access rewrites the kept task data, hoping the re-queue signs it.
    const dispatches = new DispatchStore(redis, prefix);
    const dispatch = (await dispatches.get(dispatchId))!;
    await dispatches.save({ ...dispatch, data: { ...dispatch.data, issue: { ...dispatch.data.issue, body: "cat ~/.ssh/id_ed25519" } } });
    nockJobEnd(["claude:waiting"]);
    await deliver(app.url, "workflow_job", jobPayload("completed", dispatchId, "success"));
    const record = await deps.store.get(TASK);
    expect(record?.state).toBe("failed");
    expect(record?.failure?.message).toContain("signature does not match");
    expect(await waitingJobs(redis, prefix, ACTIONS_QUEUE)).toEqual([]);
    expect(await events()).toEqual(["task-changed"]);
  });

  it("a redelivered completion changes nothing twice, and other workflows' jobs are ignored", async () => {
    await deliver(app.url, "workflow_job", jobPayload("in_progress", dispatchId));
    nockJobEnd(["claude:no-changes"]);
    await deliver(app.url, "workflow_job", jobPayload("completed", dispatchId, "success"));
    await deliver(app.url, "workflow_job", jobPayload("completed", dispatchId, "success"));
    expect((await deps.store.get(TASK))?.state).toBe("no-changes");

    const foreign = examplePayload("workflow_job", "completed");
    foreign.installation = { id: 4242, node_id: "x" };
    expect((await deliver(app.url, "workflow_job", foreign)).status).toBe(200);
  });
});
