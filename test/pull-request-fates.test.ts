import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { recordPullRequestFate, type ClosedPullRequest } from "../src/app/record-pull-request-fate.js";
import { pullRequestReport } from "../src/ops/pull-request-report.js";
import { PullRequestFates, type PullRequestFate } from "../src/store/pull-request-fates.js";
import { PullRequestIndex } from "../src/store/pull-request-index.js";
import { UsageStore } from "../src/store/usage-store.js";
import { silentLogger } from "../src/shared/logger.js";
import { closeIntakeDeps, intakeDeps } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { claimTestTask } from "./helpers/tasks.js";

const HOUR = 3_600_000;

describe("pull-request fates on real Redis", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let deps: IntakeDeps;
  let usage: UsageStore;
  let index: PullRequestIndex;

  beforeAll(() => {
    redis = connectRedis();
    deps = intakeDeps(redis, prefix);
    usage = new UsageStore(redis, prefix);
    index = new PullRequestIndex(redis, prefix);
  });
  afterAll(async () => {
    await closeIntakeDeps(deps);
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  /** Issue `number`'s task, run by pc-1 for `cost`, with PR `pr` open. */
  async function taskWithOpenPr(number: number, pr: number, cost: number): Promise<string> {
    const { taskId } = await claimTestTask(deps, { number, specialty: "docs" });
    await deps.store.update(taskId, { state: "running", agent: "pc-1", account: "team", startedAt: Date.now() });
    await usage.record({ at: Date.now(), agent: "pc-1", account: "team", taskId, costUsd: cost, turns: 1, durationMs: 1, outcome: "success" });
    await index.remember("octo-org", "hello", pr, taskId);
    await deps.store.update(taskId, { state: "pr-open", prNumber: pr, prUrl: `https://github.com/octo-org/hello/pull/${pr}`, finishedAt: Date.now() });
    return taskId;
  }
  const closedPr = (number: number, merged: boolean, at = Date.now()): ClosedPullRequest => ({
    owner: "octo-org",
    repo: "hello",
    number,
    merged,
    openedAt: at - HOUR,
    at,
  });
  const fates = () => new PullRequestFates(redis, prefix).list();
  const fateOf = async (pr: number) => (await fates()).find((f) => f.pr === `octo-org/hello#${pr}`);

  it("a PR closed, reopened and merged ends merged, counted once with its cost", async () => {
    const taskId = await taskWithOpenPr(10, 11, 0.5);
    await recordPullRequestFate(deps, closedPr(11, false), silentLogger);
    expect(await deps.store.get(taskId)).toMatchObject({ state: "closed" });
    expect(await fateOf(11)).toMatchObject({ outcome: "closed", costUsd: 0.5, agent: "pc-1", account: "team", specialty: "docs" });
    await recordPullRequestFate(deps, closedPr(11, true), silentLogger);
    expect(await deps.store.get(taskId)).toMatchObject({ state: "merged" });
    expect(await fateOf(11)).toMatchObject({ outcome: "merged", costUsd: 0.5 });
    // A "closed" delivered late changes neither the task nor the fate.
    await recordPullRequestFate(deps, closedPr(11, false), silentLogger);
    expect(await deps.store.get(taskId)).toMatchObject({ state: "merged" });
    expect(await fateOf(11)).toMatchObject({ outcome: "merged", costUsd: 0.5 });
  });

  it("a PR closed while a new run of its issue is live leaves that run alone", async () => {
    const taskId = await taskWithOpenPr(20, 21, 0.25);
    await claimTestTask(deps, { number: 20, specialty: "docs" });
    const live = await deps.store.get(taskId);
    expect(live).toMatchObject({ state: "queued", run: 2 });
    await recordPullRequestFate(deps, closedPr(21, true), silentLogger);
    expect(await deps.store.get(taskId)).toEqual(live);
    expect(await fateOf(21)).toBeUndefined();
  });

  it("an unknown PR is ignored; a PR's own feedback task takes the fate too, and its cost counts", async () => {
    await recordPullRequestFate(deps, closedPr(999, true), silentLogger);
    expect(await fateOf(999)).toBeUndefined();

    const taskId = await taskWithOpenPr(30, 31, 1);
    // The feedback task's id is the PR itself.
    const feedback = await taskWithOpenPr(31, 31, 2);
    await index.remember("octo-org", "hello", 31, taskId);
    await recordPullRequestFate(deps, closedPr(31, true), silentLogger);
    expect(await deps.store.get(taskId)).toMatchObject({ state: "merged" });
    expect(await deps.store.get(feedback)).toMatchObject({ state: "merged" });
    expect(await fateOf(31)).toMatchObject({ outcome: "merged", taskId, costUsd: 3 });
  });

  it("keeps at most the cap of fates, dropping the oldest", async () => {
    const capped = new PullRequestFates(redis, `${prefix}:cap`, 30 * 24 * HOUR, 3);
    const now = Date.now();
    for (let pr = 1; pr <= 5; pr++) {
      const fate = {
        pr: `o/r#${pr}`,
        taskId: `o/r#${pr + 100}`,
        outcome: "merged" as const,
        specialty: "general",
        agent: "a",
        account: "x",
        openedAt: 0,
        at: now + pr,
      };
      expect(await capped.record(fate, [])).toBe(true);
    }
    expect((await capped.list()).map((f) => f.pr).sort()).toEqual(["o/r#3", "o/r#4", "o/r#5"]);
    expect(await redis.pttl(`${prefix}:cap:pr-fates`)).toBeGreaterThan(0);
  });
});

describe("pullRequestReport", () => {
  const fate = (outcome: "merged" | "closed", agent: string, hours: number, costUsd: number): PullRequestFate => ({
    pr: `o/r#${Math.random()}`,
    taskId: "o/r#1",
    outcome,
    specialty: "general",
    agent,
    account: "team",
    openedAt: 0,
    at: hours * HOUR,
    costUsd,
  });

  it("computes merge rate, cost per merged PR and time to merge per group", () => {
    const report = pullRequestReport([fate("merged", "a", 1, 1), fate("merged", "a", 3, 2), fate("merged", "b", 8, 3), fate("closed", "b", 1, 5)]);
    expect(report.total).toMatchObject({
      merged: 3,
      closed: 1,
      mergeRate: 0.75,
      mergedCostUsd: 6,
      costPerMergedUsd: 2,
      timeToMergeP50Ms: 3 * HOUR,
      timeToMergeMeanMs: 4 * HOUR,
    });
    expect(report.agents).toEqual([
      expect.objectContaining({ agent: "a", merged: 2, closed: 0, mergeRate: 1, costPerMergedUsd: 1.5, timeToMergeP50Ms: 2 * HOUR }),
      expect.objectContaining({ agent: "b", merged: 1, closed: 1, mergeRate: 0.5, costPerMergedUsd: 3, timeToMergeP50Ms: 8 * HOUR }),
    ]);
  });

  it("has no rate, cost or time without pull requests to count", () => {
    expect(pullRequestReport([]).total).toEqual({
      merged: 0,
      closed: 0,
      mergeRate: null,
      mergedCostUsd: 0,
      costPerMergedUsd: null,
      timeToMergeP50Ms: null,
      timeToMergeMeanMs: null,
      ciFixRunsPerMerged: null,
      conflictRunsPerMerged: null,
      mergedWithoutHumanCommitShare: null,
    });
    expect(pullRequestReport([fate("closed", "a", 1, 1)]).agents[0]).toMatchObject({ mergeRate: 0, costPerMergedUsd: null, timeToMergeP50Ms: null });
  });
});
