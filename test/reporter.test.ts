import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import nock from "nock";
import { ProbotOctokit } from "probot";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { TaskRecord } from "../src/queue/task-record.js";
import { TaskStore } from "../src/queue/task-store.js";
import { EventQueue } from "../src/queue/event-queue.js";
import { EVENTS_QUEUE } from "../src/queue/reporter-event.js";
import { outageRetryDelayMs } from "../src/reporter/outage-retry.js";
import { Reporter, type ReporterOptions } from "../src/reporter/reporter.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const API = "https://api.github.com";
const TASK = "octo/hello#7";
const ISSUE = "/repos/octo/hello/issues/7";
const COMMENT = "/repos/octo/hello/issues/comments";
const MARKER = `<!-- claude-code-cluster:task ${TASK} -->`;
const COALESCE_MS = 300;

function record(overrides: Partial<TaskRecord> = {}): Omit<TaskRecord, "run" | "version"> {
  return {
    taskId: TASK,
    owner: "octo",
    repo: "hello",
    issueNumber: 7,
    installationId: 42,
    title: "Fix the login page",
    state: "queued",
    specialty: "frontend",
    priority: "normal",
    reason: "label claude:frontend",
    branch: "claude/issue-7-fix-the-login-page",
    baseBranch: "main",
    queue: "tasks-frontend",
    jobId: `${TASK}@1`,
    draftPullRequest: false,
    queuedAt: Date.now(),
    ...overrides,
  };
}

const labels = (...names: string[]) => names.map((name, id) => ({ id, name }));
const pr = (number: number) => ({ number, html_url: `https://github.com/octo/hello/pull/${number}` });
const running = { state: "running", agent: "pc-2", startedAt: Date.now() } as const;
const result = { summary: "Fixed the form validation.", costUsd: 0.5, turns: 9, durationMs: 60_000, commits: 1 };

describe("Reporter", () => {
  let redis: Redis;
  let prefix: string;
  let store: TaskStore;
  let events: EventQueue;
  let reporters: Reporter[];
  let unexpected: string[];
  const onNoMatch = (req: { method?: string; path?: string }) => unexpected.push(`${req.method} ${req.path}`);

  function startReporter(overrides: Partial<ReporterOptions> = {}): Reporter {
    const reporter = new Reporter({
      connection: redis,
      prefix,
      store,
      getOctokit: async () => new ProbotOctokit({ auth: { token: "test" }, retry: { enabled: false }, throttle: { enabled: false } }),
      coalesceMs: COALESCE_MS,
      backoffMs: 100,
      githubRetryBaseMs: 20,
      githubRetryMaxMs: 100,
      ...overrides,
    });
    reporter.start();
    reporters.push(reporter);
    return reporter;
  }

  /** Waits for the record to reach a condition: the reporter works asynchronously. */
  async function until(check: (r: TaskRecord | undefined) => boolean, timeout = 10_000): Promise<TaskRecord> {
    return vi.waitFor(
      async () => {
        const current = await store.get(TASK);
        if (!check(current)) throw new Error(`not yet: ${JSON.stringify(current)}`);
        return current as TaskRecord;
      },
      { timeout, interval: 25 },
    );
  }

  /** A task whose queued state is already on GitHub as comment 100 with label claude:queued. */
  async function renderedTask(overrides: Partial<TaskRecord> = {}): Promise<void> {
    await store.claim(record(overrides));
    await store.annotate(TASK, { commentId: 100, renderedVersion: 1, labelState: "queued", lastEditAt: Date.now() - 60_000 });
  }

  beforeAll(() => {
    redis = connectRedis();
    nock.emitter.on("no match", onNoMatch);
  });
  afterAll(async () => {
    nock.emitter.off("no match", onNoMatch);
    await redis.quit();
  });
  beforeEach(() => {
    prefix = randomPrefix();
    store = new TaskStore(redis, prefix);
    events = new EventQueue({ connection: redis, prefix, backoffMs: 100 });
    reporters = [];
    unexpected = [];
  });
  afterEach(async () => {
    await Promise.all(reporters.map((r) => r.close()));
    await events.close();
    await deletePrefix(redis, prefix);
    expect(unexpected).toEqual([]);
  });

  it("the first change creates one tracking comment and sets claude:queued", async () => {
    const github = nock(API)
      .post(`${ISSUE}/labels`, { labels: ["claude:queued"] })
      .reply(200, labels("claude", "claude:queued"))
      .post(`${ISSUE}/comments`, (body: { body: string }) => body.body.startsWith(MARKER) && body.body.includes("Queued"))
      .reply(201, { id: 100 });
    startReporter();
    await store.claim(record());
    await events.emit({ type: "task-changed", taskId: TASK });

    const done = await until((r) => r?.renderedVersion === 1);
    expect(done).toMatchObject({ commentId: 100, labelState: "queued" });
    expect(done.commentCreateStartedAt).toBeUndefined();
    expect(github.isDone()).toBe(true);
  });

  it("a later change edits the same comment and swaps the state label", async () => {
    await renderedTask();
    const github = nock(API)
      .post(`${ISSUE}/labels`, { labels: ["claude:running"] })
      .reply(200, labels("claude", "claude:queued", "claude:running"))
      .delete(`${ISSUE}/labels/claude%3Aqueued`)
      .reply(200, labels("claude", "claude:running"))
      .patch(`${COMMENT}/100`, (body: { body: string }) => body.body.includes("Running") && body.body.includes("`pc-2`"))
      .reply(200, { id: 100 });
    startReporter();
    await store.update(TASK, running);
    await events.emit({ type: "task-changed", taskId: TASK });

    await until((r) => r?.renderedVersion === 2 && r.labelState === "running");
    expect(github.isDone()).toBe(true);
  });

  it("a render of the last run that ends after the next run was queued does not hide the next run's changes", async () => {
    await renderedTask();
    // Run 1 went far: its record is at version 4 when the reporter reads it.
    await store.update(TASK, running);
    await store.update(TASK, { progress: { turns: 3, currentTool: "Edit", updatedAt: Date.now() } });
    await store.update(TASK, { state: "no-changes", result, finishedAt: Date.now() });
    const nextRun = record({ state: "queued", queuedAt: Date.now() });
    const github = nock(API)
      .post(`${ISSUE}/labels`, { labels: ["claude:no-changes"] })
      .reply(200, labels("claude", "claude:queued", "claude:no-changes"))
      .delete(`${ISSUE}/labels/claude%3Aqueued`)
      .reply(200, labels("claude", "claude:no-changes"))
      // While run 1's edit is on its way, someone asks again: run 2 is queued, and fails at its version 2.
      .patch(`${COMMENT}/100`, (body: { body: string }) => body.body.includes("Answered without changes"))
      .reply((_uri, _body, callback) => {
        void store
          .claim(nextRun)
          .then(() => store.update(TASK, { state: "failed", failure: { kind: "crash", message: "the worktree vanished" }, finishedAt: Date.now() }))
          .then(
            () => callback(null, [200, { id: 100 }]),
            (error: Error) => callback(error, [500, {}]),
          );
      });
    startReporter();
    await events.emit({ type: "task-changed", taskId: TASK });
    await until((r) => r?.run === 2 && r.state === "failed");
    expect(github.isDone()).toBe(true);

    const failedShown = nock(API)
      .post(`${ISSUE}/labels`, { labels: ["claude:failed"] })
      .reply(200, labels("claude", "claude:no-changes", "claude:failed"))
      .delete(`${ISSUE}/labels/claude%3Ano-changes`)
      .reply(200, labels("claude", "claude:failed"))
      .patch(`${COMMENT}/100`, (body: { body: string }) => body.body.includes("the worktree vanished"))
      .reply(200, { id: 100 });
    await events.emit({ type: "task-changed", taskId: TASK });
    await until((r) => r?.run === 2 && r.renderedVersion === r.version && r.labelState === "failed");
    expect(failedShown.isDone()).toBe(true);
  });

  it("a burst of progress is coalesced into one edit per window that shows the last state", async () => {
    await renderedTask();
    await store.annotate(TASK, { labelState: "running", lastEditAt: Date.now() });
    const edits: Array<{ at: number; body: string }> = [];
    nock(API)
      .patch(`${COMMENT}/100`, (body: { body: string }) => {
        edits.push({ at: Date.now(), body: body.body });
        return true;
      })
      .reply(200, { id: 100 })
      .persist();
    startReporter();
    for (let turns = 1; turns <= 10; turns++) {
      await store.update(TASK, { ...running, progress: { turns, currentTool: `Edit file-${turns}.ts`, updatedAt: Date.now() } });
      await events.emit({ type: "task-changed", taskId: TASK });
    }

    await until((r) => r?.renderedVersion === 11);
    await new Promise((resolve) => setTimeout(resolve, 3 * COALESCE_MS));
    expect(edits).toHaveLength(1);
    expect(edits[0]?.body).toContain("**Progress** 10 turns · now `Edit file-10.ts`");
  });

  it("pushed without an open PR opens exactly one that closes the issue, and marks the task pr-open", async () => {
    await renderedTask();
    await store.update(TASK, { ...running, result });
    await store.annotate(TASK, { renderedVersion: 2, labelState: "running" });
    const github = nock(API)
      .get("/repos/octo/hello/pulls")
      .query({ head: "octo:claude/issue-7-fix-the-login-page", state: "open", per_page: "1" })
      .reply(200, [])
      .post(
        "/repos/octo/hello/pulls",
        (body: Record<string, unknown>) =>
          body.title === "Fix the login page" &&
          body.head === "claude/issue-7-fix-the-login-page" &&
          body.base === "main" &&
          body.draft === false &&
          String(body.body).includes("Closes #7") &&
          String(body.body).includes("Fixed the form validation."),
      )
      .reply(201, pr(12))
      .post(`${ISSUE}/labels`, { labels: ["claude:pr-open"] })
      .reply(200, labels("claude:running", "claude:pr-open"))
      .delete(`${ISSUE}/labels/claude%3Arunning`)
      .reply(200, [])
      .patch(`${COMMENT}/100`, (body: { body: string }) => body.body.includes("[#12](https://github.com/octo/hello/pull/12)"))
      .reply(200, { id: 100 });
    startReporter();
    await events.emit({ type: "pushed", taskId: TASK });

    const done = await until((r) => r?.state === "pr-open" && r.renderedVersion === r.version);
    expect(done).toMatchObject({ prNumber: 12, prUrl: "https://github.com/octo/hello/pull/12" });
    expect(done.finishedAt).toBeTypeOf("number");
    expect(github.isDone()).toBe(true);
  });

  it("pushed when the branch already has an open PR reuses it instead of opening another", async () => {
    await renderedTask();
    await store.update(TASK, { ...running, result });
    await store.annotate(TASK, { renderedVersion: 2, labelState: "running" });
    const github = nock(API)
      .get("/repos/octo/hello/pulls")
      .query(true)
      .reply(200, [pr(5)])
      .patch("/repos/octo/hello/pulls/5", (body: { body: string }) => body.body.includes("Closes #7"))
      .reply(200, pr(5))
      .post(`${ISSUE}/labels`)
      .reply(200, labels("claude:pr-open"))
      .delete(`${ISSUE}/labels/claude%3Arunning`)
      .reply(404, { message: "Label does not exist" })
      .patch(`${COMMENT}/100`)
      .reply(200, { id: 100 });
    startReporter();
    await events.emit({ type: "pushed", taskId: TASK });

    const done = await until((r) => r?.state === "pr-open" && r.renderedVersion === r.version);
    expect(done.prNumber).toBe(5);
    expect(github.isDone()).toBe(true);
  });

  it("pushed after the task was cancelled opens no PR", async () => {
    await renderedTask();
    await store.update(TASK, { state: "cancelled", failure: { kind: "cancelled", message: "cancelled by alice" } });
    const github = nock(API)
      .post(`${ISSUE}/labels`, { labels: ["claude:cancelled"] })
      .reply(200, labels("claude:cancelled"))
      .delete(`${ISSUE}/labels/claude%3Aqueued`)
      .reply(404, { message: "Label does not exist" })
      .patch(`${COMMENT}/100`, (body: { body: string }) => body.body.includes("Cancelled"))
      .reply(200, { id: 100 });
    startReporter();
    await events.emit({ type: "pushed", taskId: TASK });

    const done = await until((r) => r?.renderedVersion === 2);
    expect(done.state).toBe("cancelled");
    expect(done.prNumber).toBeUndefined();
    expect(github.isDone()).toBe(true);
  });

  it("a pushed event of an earlier run, handled late, neither opens a PR nor ends the run now under way", async () => {
    await renderedTask();
    // Run 1 pushed, then was cancelled before its event was handled; run 2 is running.
    await store.update(TASK, { state: "cancelled", failure: { kind: "cancelled", message: "cancelled by alice" } });
    await store.claim(record({ queuedAt: Date.now() }));
    await store.update(TASK, running);
    const github = nock(API)
      .post(`${ISSUE}/labels`, { labels: ["claude:running"] })
      .reply(200, labels("claude:queued", "claude:running"))
      .delete(`${ISSUE}/labels/claude%3Aqueued`)
      .reply(200, labels("claude:running"))
      .patch(`${COMMENT}/100`, (body: { body: string }) => body.body.includes("Running") && body.body.includes("run 2"))
      .reply(200, { id: 100 });
    startReporter();
    await events.emit({ type: "pushed", taskId: TASK, run: 1 });

    const shown = await until((r) => r?.run === 2 && r.renderedVersion === r.version);
    expect(shown.state).toBe("running");
    expect(shown.prNumber).toBeUndefined();
    expect(github.isDone()).toBe(true);
  });

  it("pushed that GitHub refuses for good fails the task instead of leaving it running", async () => {
    await renderedTask();
    await store.update(TASK, { ...running, result });
    await store.annotate(TASK, { renderedVersion: 2, labelState: "running" });
    const github = nock(API)
      .get("/repos/octo/hello/pulls")
      .query(true)
      .reply(200, [])
      .post("/repos/octo/hello/pulls")
      .reply(422, { message: "Validation Failed", errors: [{ message: "No commits between main and claude/issue-7-fix-the-login-page" }] })
      .post(`${ISSUE}/labels`, { labels: ["claude:failed"] })
      .reply(200, labels("claude:running", "claude:failed"))
      .delete(`${ISSUE}/labels/claude%3Arunning`)
      .reply(200, [])
      .patch(`${COMMENT}/100`, (body: { body: string }) => body.body.includes("Could not open the pull request"))
      .reply(200, { id: 100 });
    startReporter();
    await events.emit({ type: "pushed", taskId: TASK });

    const done = await until((r) => r?.state === "failed" && r.renderedVersion === r.version);
    expect(done.failure?.kind).toBe("push");
    expect(github.isDone()).toBe(true);
  });

  it("pushed while GitHub answers 503 for longer than the old five attempts keeps trying and opens one PR once it is back", async () => {
    await renderedTask();
    await store.update(TASK, { ...running, result });
    await store.annotate(TASK, { renderedVersion: 2, labelState: "running" });
    const github = nock(API)
      .get("/repos/octo/hello/pulls")
      .query(true)
      .times(15)
      .reply(503, { message: "Service Unavailable" })
      .get("/repos/octo/hello/pulls")
      .query(true)
      .reply(200, [])
      .post("/repos/octo/hello/pulls")
      .reply(201, pr(12))
      .post(`${ISSUE}/labels`)
      .reply(200, labels("claude:pr-open"))
      .delete(`${ISSUE}/labels/claude%3Arunning`)
      .reply(404, { message: "Label does not exist" })
      .patch(`${COMMENT}/100`)
      .reply(200, { id: 100 });
    startReporter();
    await events.emit({ type: "pushed", taskId: TASK });

    const done = await until((r) => r?.state === "pr-open" && r.renderedVersion === r.version);
    expect(done.prNumber).toBe(12);
    expect(github.isDone()).toBe(true);
    const queue = new Queue(EVENTS_QUEUE, { connection: redis, prefix });
    expect(await queue.getJobCounts("failed")).toEqual({ failed: 0 });
    await queue.close();
  });

  it("a 422 'a pull request already exists' on opening the PR adopts that PR instead of failing the task", async () => {
    await renderedTask();
    await store.update(TASK, { ...running, result });
    await store.annotate(TASK, { renderedVersion: 2, labelState: "running" });
    const head = "octo:claude/issue-7-fix-the-login-page";
    const github = nock(API)
      // GitHub's list lags behind the PR an earlier, lost answer created.
      .get("/repos/octo/hello/pulls")
      .query({ head, state: "open", per_page: "1" })
      .reply(200, [])
      .post("/repos/octo/hello/pulls")
      .reply(422, {
        message: "Validation Failed",
        errors: [{ resource: "PullRequest", code: "custom", message: `A pull request already exists for ${head}.` }],
      })
      .get("/repos/octo/hello/pulls")
      .query({ head, state: "open", per_page: "1" })
      .reply(200, [pr(9)])
      .patch("/repos/octo/hello/pulls/9", (body: { body: string }) => body.body.includes("Closes #7"))
      .reply(200, pr(9))
      .post(`${ISSUE}/labels`, { labels: ["claude:pr-open"] })
      .reply(200, labels("claude:pr-open"))
      .delete(`${ISSUE}/labels/claude%3Arunning`)
      .reply(404, { message: "Label does not exist" })
      .patch(`${COMMENT}/100`, (body: { body: string }) => body.body.includes("[#9](https://github.com/octo/hello/pull/9)"))
      .reply(200, { id: 100 });
    startReporter();
    await events.emit({ type: "pushed", taskId: TASK });

    const done = await until((r) => r?.state === "pr-open" && r.renderedVersion === r.version);
    expect(done).toMatchObject({ prNumber: 9, prUrl: "https://github.com/octo/hello/pull/9" });
    expect(github.isDone()).toBe(true);
  });

  it("a write that takes longer than the lock's TTL keeps the task locked: a second change waits instead of writing beside it", async () => {
    await renderedTask();
    let inFlight = 0;
    let mostInFlight = 0;
    const bodies: string[] = [];
    nock(API)
      .patch(`${COMMENT}/100`)
      .times(2)
      .reply(function (_uri, body, callback) {
        bodies.push((body as { body: string }).body);
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        // The first edit takes five TTLs; the second answers at once.
        setTimeout(
          () => {
            inFlight--;
            callback(null, [200, { id: 100 }]);
          },
          bodies.length === 1 ? 1_000 : 0,
        );
      });
    startReporter({ lockTtlMs: 200, coalesceMs: 0 });
    await store.update(TASK, { blockedBy: "no frontend agent is live" });
    await events.emit({ type: "task-changed", taskId: TASK });
    await vi.waitFor(() => expect(inFlight).toBe(1), { timeout: 5_000, interval: 10 });
    await store.update(TASK, { blockedBy: "no backend agent is live" });
    await events.emit({ type: "task-changed", taskId: TASK });

    await until((r) => r?.renderedVersion === 3, 10_000);
    expect(mostInFlight).toBe(1);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toContain("no backend agent is live");
  });

  it("a deleted tracking comment is created again", async () => {
    await renderedTask();
    await store.update(TASK, { waitingFor: "a frontend agent" });
    const github = nock(API)
      .patch(`${COMMENT}/100`)
      .reply(404, { message: "Not Found" })
      .post(`${ISSUE}/comments`, (body: { body: string }) => body.body.startsWith(MARKER))
      .reply(201, { id: 101 });
    startReporter();
    await events.emit({ type: "task-changed", taskId: TASK });

    const done = await until((r) => r?.renderedVersion === 2);
    expect(done.commentId).toBe(101);
    expect(github.isDone()).toBe(true);
  });

  it("a 502 on creating the comment is retried and ends with exactly one comment", async () => {
    await store.claim(record());
    await store.annotate(TASK, { labelState: "queued" });
    const github = nock(API)
      .post(`${ISSUE}/comments`)
      .reply(502, { message: "Bad Gateway" })
      // The retry first checks whether the failed create landed anyway: it did not.
      .get(`${ISSUE}/comments`)
      .query({ per_page: "100" })
      .reply(200, [{ id: 5, user: { type: "User" }, body: `> ${MARKER}` }])
      .post(`${ISSUE}/comments`)
      .reply(201, { id: 100 });
    startReporter();
    await events.emit({ type: "task-changed", taskId: TASK });

    const done = await until((r) => r?.renderedVersion === 1);
    expect(done.commentId).toBe(100);
    expect(github.isDone()).toBe(true);
  });

  it("a create that failed with 502 but landed is adopted, not duplicated", async () => {
    await store.claim(record());
    await store.annotate(TASK, { labelState: "queued" });
    const github = nock(API)
      .post(`${ISSUE}/comments`)
      .reply(502, { message: "Bad Gateway" })
      .get(`${ISSUE}/comments`)
      .query(true)
      .reply(200, [{ id: 77, user: { type: "Bot" }, body: `${MARKER}\n\n⏳ **Queued**` }])
      .patch(`${COMMENT}/77`)
      .reply(200, { id: 77 });
    startReporter();
    await events.emit({ type: "task-changed", taskId: TASK });

    const done = await until((r) => r?.renderedVersion === 1);
    expect(done.commentId).toBe(77);
    expect(github.isDone()).toBe(true);
  });

  it("two replicas on the same events queue render a task once", async () => {
    const github = nock(API).post(`${ISSUE}/labels`).reply(200, labels("claude:queued")).post(`${ISSUE}/comments`).reply(201, { id: 100 });
    startReporter();
    startReporter();
    await store.claim(record());
    await Promise.all([
      events.emit({ type: "task-changed", taskId: TASK }),
      events.emit({ type: "task-changed", taskId: TASK }),
      events.emit({ type: "task-changed", taskId: TASK }),
    ]);

    await until((r) => r?.renderedVersion === 1);
    // Let the jobs that waited for the lock run: they find nothing left to do.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(github.isDone()).toBe(true);
  });

  it("a reply with a dedupe key is posted once even when emitted twice", async () => {
    let posted = 0;
    nock(API)
      .post(`${ISSUE}/comments`, { body: "Unknown command `/claude frobnicate`." })
      .reply(201, () => {
        posted++;
        return { id: 300 };
      });
    startReporter();
    const reply = {
      type: "reply",
      installationId: 42,
      owner: "octo",
      repo: "hello",
      issueNumber: 7,
      body: "Unknown command `/claude frobnicate`.",
      dedupeKey: "delivery-1",
    } as const;
    await events.emit(reply);
    await events.emit(reply);

    await vi.waitFor(() => expect(posted).toBe(1), { timeout: 5_000, interval: 25 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(posted).toBe(1);
  });
});

describe("outageRetryDelayMs", () => {
  const retry = { baseMs: 2_000, maxMs: 60_000 };
  it.each([
    [1, 1, 2_000],
    [2, 1, 4_000],
    [5, 1, 32_000],
    [6, 1, 60_000],
    [1_000, 1, 60_000],
    [1, 0, 1_600],
    [6, 0, 48_000],
  ])("retry %i with random %d waits %i ms: doubling from the base, capped, less up to a fifth", (n, random, expected) => {
    expect(outageRetryDelayMs(n, retry, () => random)).toBe(expected);
  });
});
