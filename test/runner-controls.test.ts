import type { Redis } from "ioredis";
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { runnerReportLine, type RunnerReport } from "../src/claude/runner-report.js";
import { cancelTask } from "../src/control/cancel-task.js";
import { STOPPED_WAITING_FOR } from "../src/control/control-blocker.js";
import { ACTIONS_QUEUE } from "../src/dispatcher/actions-queue.js";
import type { Dispatcher } from "../src/dispatcher/dispatcher.js";
import { ClusterControl } from "../src/store/cluster-control.js";
import { DispatchStore } from "../src/store/dispatch-store.js";
import { UsageStore } from "../src/store/usage-store.js";
import {
  ACTIONS_OWNER as OWNER,
  ACTIONS_REPO as REPO,
  dispatchActionsTask,
  enqueueActionsTask,
  runner,
  testDispatcher,
  workflowJobPayload,
  workflowRunPayload,
} from "./helpers/actions-tasks.js";
import { deliver, startAppServer, type RunningApp } from "./helpers/app-server.js";
import { API, nockInstallationToken, nockNoRepoConfig, nockPermission } from "./helpers/github-nock.js";
import { closeIntakeDeps, intakeDeps, pendingEvents, waitingJobs } from "./helpers/intake.js";
import { closedIssuePayload, commentPayload } from "./helpers/payloads.js";
import { waitFor } from "./helpers/agent-process.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { startFakeGitHub } from "./helpers/fake-github.js";
import { ProbotOctokit } from "probot";

const TASK = `${OWNER}/${REPO}#12`;
const ISSUE = `/repos/${OWNER}/${REPO}/issues/12`;
const RUN_ID = 940463255;
const CANCEL = `/repos/${OWNER}/${REPO}/actions/runs/${RUN_ID}/cancel`;
const RUNNERS = `/repos/${OWNER}/${REPO}/actions/runners`;
const DISPATCH = `/repos/${OWNER}/${REPO}/actions/workflows/claude-agent.yml/dispatches`;

/**
 * Runner mode under the cluster's controls, through the app (webhooks) and the dispatcher: pause
 * and emergency stop, `/claude cancel`, and what the Action reports when its job ends.
 */
describe("runner mode under the cluster's controls", () => {
  let redis: Redis;
  let prefix: string;
  let deps: IntakeDeps;
  let app: RunningApp;
  let dispatcher: Dispatcher;
  let control: ClusterControl;
  let dispatchId: string;

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
    dispatcher = testDispatcher(deps, { runnerCacheSeconds: 0 });
    control = new ClusterControl(redis, prefix);
  });
  afterEach(async () => {
    await dispatcher.close();
    await app.stop();
    await closeIntakeDeps(deps);
    await deletePrefix(redis, prefix);
  });

  const events = async () => (await pendingEvents(redis, prefix)).map((e) => e.type);
  const queued = async () => (await waitingJobs(redis, prefix, ACTIONS_QUEUE)).map((j) => j.id);

  /** The dispatched task's run is named (workflow_run) and, unless `queuedOnly`, a runner took its job. */
  async function dispatchAndStart(options: { queuedOnly?: boolean } = {}): Promise<void> {
    dispatchId = await dispatchActionsTask(deps, dispatcher, { number: 12 });
    expect((await deliver(app.url, "workflow_run", workflowRunPayload("requested", { dispatchId, runId: RUN_ID }))).status).toBe(200);
    if (!options.queuedOnly) {
      await deliver(app.url, "workflow_job", workflowJobPayload("in_progress", { dispatchId, runId: RUN_ID }));
      expect((await deps.store.get(TASK))?.state).toBe("running");
    }
  }

  /** GitHub with an idle runner, answering one dispatch; resolves the dispatch id sent. `config`: the repository's config is not cached yet. */
  function idleRunnerAndDispatch(config = true): { id: () => string | undefined } {
    nock(API)
      .get(RUNNERS)
      .query(true)
      .reply(200, { total_count: 1, runners: [runner(1, "pc-2", ["self-hosted", "claude", "backend"])] });
    if (config) nockNoRepoConfig(OWNER, REPO);
    let sent: string | undefined;
    nock(API)
      .post(DISPATCH, (body: { inputs: Record<string, string> }) => {
        sent = body.inputs["dispatch-id"];
        return true;
      })
      .reply(204);
    return { id: () => sent };
  }

  /**
   * The job completes with the Action's label on the issue and its hidden report in the tracking
   * comment. `optional`: the app need not read them (a task no longer live).
   */
  async function completeWith(label: string, report?: RunnerReport, optional = false): Promise<void> {
    if (!optional) nockInstallationToken();
    nock(API)
      .get(`${ISSUE}/labels`)
      .query(true)
      .optionally(optional)
      .reply(200, [{ id: 2, name: label }])
      .get(`${ISSUE}/comments`)
      .query(true)
      .optionally(optional)
      .reply(200, [
        { id: 5, user: { login: "mallory", type: "User" }, body: "a person's comment" },
        {
          id: 900,
          user: { login: "github-actions[bot]", type: "Bot" },
          body: `<!-- claude-code-cluster:task ${TASK} -->\n\n⏸️ **Waiting**${report ? `\n\n${runnerReportLine(report)}` : ""}`,
        },
      ]);
    await deliver(app.url, "workflow_job", workflowJobPayload("completed", { dispatchId, runId: RUN_ID, conclusion: "success" }));
  }

  it("paused: nothing is dispatched and the task says why; resumed: it is dispatched once", async () => {
    await enqueueActionsTask(deps, { number: 12 });
    await control.pause("@alice");

    // No runner is even asked for: nothing new starts while paused.
    expect((await dispatcher.tick()).dispatched).toEqual([]);
    expect((await deps.store.get(TASK))?.blockedBy).toBe("the cluster is paused by @alice: `/claude resume` or `ccc resume` lifts it");
    expect(await events()).toEqual(["task-changed"]);
    expect(await queued()).toEqual([`${TASK}@1`]);

    await control.resume("@alice");
    const dispatch = idleRunnerAndDispatch();
    expect((await dispatcher.tick()).dispatched).toEqual([TASK]);
    expect(dispatch.id()).toMatch(/^[a-f0-9]{16}$/);
    const record = await deps.store.get(TASK);
    expect(record?.state).toBe("queued");
    expect(record?.blockedBy).toBeUndefined();
    expect(await queued()).toEqual([]);
    expect((await dispatcher.tick()).dispatched).toEqual([]);
  });

  it("emergency stop cancels the running task's workflow run; the task waits for the resume and is then dispatched once", async () => {
    await dispatchAndStart();
    await control.stop("@root");

    // This pass talks to the fake GitHub, which keeps the runs cancelled.
    const github = await startFakeGitHub();
    try {
      const stopping = testDispatcher(deps, {
        getOctokit: async () =>
          new ProbotOctokit({ auth: { token: "ghs_test" }, baseUrl: github.baseUrl, retry: { enabled: false }, throttle: { enabled: false } }),
      });
      expect(await stopping.tick()).toMatchObject({ cancelled: [TASK], dispatched: [] });
      expect(github.cancelledRuns(`${OWNER}/${REPO}`)).toEqual([RUN_ID]);
    } finally {
      await github.close();
    }
    const record = await deps.store.get(TASK);
    expect(record).toMatchObject({ state: "waiting", waitingFor: STOPPED_WAITING_FOR });
    expect(record?.blockedBy).toContain("the cluster is stopped (emergency stop by @root)");
    expect(await queued()).toEqual([`${TASK}@1`]);

    // The cancelled run's completion changes nothing: the task is the queue's again.
    await deliver(app.url, "workflow_job", workflowJobPayload("completed", { dispatchId, runId: RUN_ID, conclusion: "cancelled" }));
    expect((await deps.store.get(TASK))?.state).toBe("waiting");
    // A second pass while stopped neither cancels nor dispatches again.
    expect(await dispatcher.tick()).toMatchObject({ cancelled: [], dispatched: [] });

    await control.resume("@root");
    const dispatch = idleRunnerAndDispatch(false);
    expect((await dispatcher.tick()).dispatched).toEqual([TASK]);
    expect(dispatch.id()).not.toBe(dispatchId);
    expect(await deps.store.get(TASK)).toMatchObject({ state: "queued", run: 1 });
    expect((await deps.store.get(TASK))?.waitingFor).toBeUndefined();
    expect(await queued()).toEqual([]);
    expect((await new DispatchStore(redis, prefix).active()).map((d) => d.id)).toEqual([dispatch.id()]);
  });

  it("/claude cancel on a running runner task cancels its workflow run, and a pr-open the job reports afterwards is not taken", async () => {
    await dispatchAndStart();
    nockInstallationToken();
    nockPermission(OWNER, REPO, "maintainer", "write");
    expect((await deliver(app.url, "issue_comment", commentPayload("/claude cancel", { number: 12 }))).status).toBe(200);
    expect((await deps.store.get(TASK))?.state).toBe("cancelled");
    const cancel = nock(API).post(CANCEL).reply(202, {});
    expect((await dispatcher.tick()).cancelled).toEqual([TASK]);
    expect(cancel.isDone()).toBe(true);

    await completeWith("claude:pr-open", undefined, true);
    const record = await deps.store.get(TASK);
    expect(record?.state).toBe("cancelled");
    expect(record?.prUrl).toBeUndefined();
  });

  it("/claude cancel on a task whose run is still queued cancels the run; one GitHub had not named yet is cancelled when it is", async () => {
    await dispatchAndStart({ queuedOnly: true });
    await cancelTask(deps, TASK, "@bob");
    const cancel = nock(API).post(CANCEL).reply(202, {});
    expect((await dispatcher.tick()).cancelled).toEqual([TASK]);
    expect(cancel.isDone()).toBe(true);

    // A second task, cancelled right after its dispatch, before any event named its run.
    await enqueueActionsTask(deps, { number: 13 });
    const dispatch = idleRunnerAndDispatch(false);
    expect((await dispatcher.tick()).dispatched).toEqual([`${OWNER}/${REPO}#13`]);
    const other = dispatch.id()!;
    await cancelTask(deps, `${OWNER}/${REPO}#13`, "@bob");
    expect((await dispatcher.tick()).cancelled).toEqual([`${OWNER}/${REPO}#13`]);
    nockInstallationToken();
    const late = nock(API).post(`/repos/${OWNER}/${REPO}/actions/runs/555/cancel`).reply(202, {});
    await deliver(app.url, "workflow_run", workflowRunPayload("requested", { dispatchId: other, runId: 555 }));
    expect(late.isDone()).toBe(true);
  });

  it("the job's usage is counted under the runner and its account, and a usage limit re-queues for the reset Claude reported", async () => {
    await dispatchAndStart();
    const resetAt = Date.now() + 2 * 60 * 60_000;
    const usage = { costUsd: 0.42, turns: 9, durationMs: 61_000, outcome: "usage-limit", inputTokens: 1200, outputTokens: 300 };
    await completeWith("claude:waiting", { taskId: TASK, run: 1, runner: "pc-2", account: "team-max", usage, resetAt });

    const [job] = await waitingJobs(redis, prefix, ACTIONS_QUEUE);
    expect(job?.id).toBe(`${TASK}@1`);
    // Delayed until the reset, not a fixed 15 minutes (give or take the test's own time).
    expect(job!.timestamp + job!.delay).toBeGreaterThanOrEqual(resetAt - 5_000);
    expect(job!.timestamp + job!.delay).toBeLessThanOrEqual(resetAt + 5_000);
    const record = await deps.store.get(TASK);
    expect(record).toMatchObject({ state: "waiting", failure: { kind: "usage-limit" } });
    expect(record?.waitingFor).toContain("the usage limit of account team-max to reset");

    const entries = await new UsageStore(redis, prefix).range(0, Date.now() + 1_000);
    expect(entries).toEqual([expect.objectContaining({ agent: "pc-2", account: "team-max", taskId: TASK, ...usage })]);
  });

  it("closing the runner's session-timeout issue dispatches a task waiting for its login at once", async () => {
    await dispatchAndStart();
    await completeWith("claude:waiting", { taskId: TASK, run: 1, runner: "pc-2", account: "runner:pc-2", sessionIssue: 41 });
    expect(await deps.store.get(TASK)).toMatchObject({ state: "waiting", failure: { kind: "session-expired" } });
    expect((await deps.store.get(TASK))?.waitingFor).toContain("closing issue #41");
    const [delayed] = await waitingJobs(redis, prefix, ACTIONS_QUEUE);
    expect(await delayed!.getState()).toBe("delayed");
    // Not due yet: the dispatcher leaves it.
    expect((await dispatcher.tick()).dispatched).toEqual([]);

    // The dispatcher runs as in the app, with a pass due only in ten minutes: the closing asks for one now.
    const sent = idleRunnerAndDispatch(false);
    dispatcher = testDispatcher(deps, { runnerCacheSeconds: 0, intervalMs: 600_000 });
    dispatcher.start();
    deps.dispatchNow = () => dispatcher.nudge();
    await deliver(app.url, "issues", closedIssuePayload(41, "pc-2: Claude session expired", ["session-timeout"]));
    await waitFor("the task dispatched to the runner again", async () => sent.id());
    const dispatched = await dispatcher.dispatches.get(sent.id()!);
    expect(dispatched).toMatchObject({ taskId: TASK, run: 1, state: "dispatched" });
    // Until a runner starts the job, the issue no longer names the login as what it waits for.
    const record = await deps.store.get(TASK);
    expect(record).toMatchObject({ state: "queued", run: 1 });
    expect(record?.waitingFor).toBeUndefined();
  });
});
