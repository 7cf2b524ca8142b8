import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import type { TaskRecord } from "../src/queue/task-record.js";
import { PullRequestChecks } from "../src/store/pull-request-checks.js";
import { waitFor } from "./helpers/agent-process.js";
import { startAppProcess } from "./helpers/app-process.js";
import { useCluster } from "./helpers/cluster.js";
import { useAofCluster } from "./helpers/redis-server.js";
import { tip } from "./helpers/git-origin.js";
import { checkSuiteCompletedPayload, closedIssuePayload, labeledPayload } from "./helpers/payloads.js";
import { REDIS_URL } from "./helpers/redis.js";
import { AgentRegistry } from "../src/store/agent-registry.js";

const REPO = "octo-org/hello";
const SETTLE = { CCC_CI_SETTLE_SECONDS: "1", CCC_RECONCILE_SECONDS: "1" };

/** What both describes share: a cluster, a lone agent's settings, and reading its runs and records. */
function ciFaultsBed() {
  const cluster = useCluster({ env: SETTLE });
  const scratch = mkdtempSync(join(tmpdir(), "ccc-ci-faults-"));
  const runLog = join(scratch, "runs.jsonl");
  const hold = join(scratch, "release");
  const scenario = join(scratch, "scenario");
  const reset = join(scratch, "reset");
  writeFileSync(scenario, "edit");
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const recordIn = (number: number, check: (r: TaskRecord) => boolean) => async () => {
    const record = await cluster.store.get(`${REPO}#${number}`);
    return record && check(record) ? record : undefined;
  };
  return {
    cluster,
    runLog,
    hold,
    scenario,
    reset,
    recordIn,
    agentEnv: {
      FAKE_CLAUDE_RUN_LOG: runLog,
      FAKE_CLAUDE_HOLD_FILE: hold,
      FAKE_CLAUDE_SCENARIO_FILE: scenario,
      FAKE_CLAUDE_RESET_FILE: reset,
      CCC_USAGE_RESET_MARGIN_SECONDS: "1",
      // BullMQ notices a dead agent's job within a few seconds.
      CCC_LOCK_SECONDS: "3",
    },
    fixRuns: () =>
      existsSync(runLog)
        ? readFileSync(runLog, "utf8")
            .split("\n")
            .filter((line) => line.includes("ci-failures"))
            .map((line) => JSON.parse(line) as { prompt: string; cwd: string })
        : [],
    checks: (pr: number) => new PullRequestChecks(cluster.redis, cluster.prefix).get("octo-org", "hello", pr),
    isAncestor: async (older: string, newer: string) =>
      (await execa("git", ["merge-base", "--is-ancestor", older, newer], { cwd: cluster.origin.dir, reject: false })).exitCode === 0,
    /** Issue `number` through to its PR; returns the PR's number, branch and head. */
    openPullRequest: async (number: number, title: string) => {
      writeFileSync(hold, "");
      expect((await cluster.deliver("issues", labeledPayload("claude", { number, title, cloneUrl: cluster.origin.url }))).status).toBe(200);
      const opened = await waitFor(
        `issue #${number}'s PR`,
        recordIn(number, (r) => r.state === "pr-open"),
        40_000,
      );
      return { pr: opened.prNumber!, branch: opened.branch, red: opened.pushedSha! };
    },
    failTests: (sha: string) => cluster.github.addCheckRun(REPO, { headSha: sha, name: "unit-tests", conclusion: "failure", output: { title: "1 failed" } }),
  };
}

/**
 * A CI-fix task is a task like any other: an app that was down when GitHub sent the red check,
 * an agent killed in the middle of the fix, and a usage limit in the middle of it each end in
 * one fix, pushed once, with one attempt counted.
 */
describe("CI fixes through faults, with a lone agent", () => {
  const { cluster, agentEnv, fixRuns, checks, isAncestor, openPullRequest, failTests, recordIn } = ciFaultsBed();

  it("a red check GitHub sent while the app was down is fixed all the same: the look queued at the push finds it after the restart", async () => {
    cluster.github.useOrigin(REPO, cluster.origin);
    await cluster.startAgent({ name: "lone", env: agentEnv });
    const { pr, branch, red } = await openPullRequest(40, "Red while the app is down");

    expect(await cluster.app.stop()).toBe(0);
    // CI goes red; GitHub's check events find no app, and nobody redelivers them.
    failTests(red);
    const again = await startAppProcess({ prefix: cluster.prefix, env: { ...cluster.github.env, REDIS_URL, ...SETTLE } });
    try {
      const fixed = await waitFor(
        "the fix pushed",
        recordIn(pr, (r) => r.state === "pr-open" && r.ciFix !== undefined),
        60_000,
      );
      expect(fixed.ciFix).toMatchObject({ attempt: 1, checks: ["unit-tests"] });
      expect(await isAncestor(red, (await tip(cluster.origin.dir, branch))!)).toBe(true);
      expect(fixRuns()).toHaveLength(1);
      expect(await checks(pr)).toMatchObject({ attempts: 1, fixRuns: 1, handledSha: red });
    } finally {
      await again.stop();
    }
    // The cluster's own app (stopped above) is not brought back: the next tests use their own.
  }, 120_000);
});

describe("CI fixes through a killed agent and a usage limit, with a lone agent", () => {
  const { cluster, agentEnv: env, hold, scenario, reset, runLog, fixRuns, checks, isAncestor, openPullRequest, recordIn } = ciFaultsBed();
  const goRed = async (pr: number, sha: string) => {
    cluster.github.addCheckRun(REPO, { headSha: sha, name: "unit-tests", conclusion: "failure", output: { title: "1 failed" } });
    expect((await cluster.deliver("check_suite", checkSuiteCompletedPayload(sha, "failure", { pullRequests: [pr] }))).status).toBe(200);
  };

  it("an agent killed in the middle of a fix (kill -9) and started again on the same PC pushes the fix once, one attempt counted", async () => {
    cluster.github.useOrigin(REPO, cluster.origin);
    const doomed = await cluster.startAgent({ name: "lone", env });
    const { pr, branch, red } = await openPullRequest(50, "Killed mid-fix");
    rmSync(hold);
    await goRed(pr, red);
    // Claude is in the fix and has committed; it waits before its result line.
    await waitFor("Claude in the fix", async () => fixRuns().length === 1, 30_000);
    await waitFor(
      "the fix's session on the record",
      recordIn(pr, (r) => r.state === "running" && r.session !== undefined),
      30_000,
    );

    doomed.child.kill("SIGKILL");
    const registry = new AgentRegistry(cluster.redis, cluster.prefix);
    await waitFor("the killed agent's name to be free", async () => !(await registry.list()).some((a) => a.name === "lone"), 30_000);
    writeFileSync(hold, "");
    await cluster.startAgent({ name: "lone", env, workdir: doomed.workdir });

    const done = await waitFor(
      "the fix pushed",
      recordIn(pr, (r) => r.state === "pr-open"),
      60_000,
    );
    expect(done).toMatchObject({ run: 1, resumed: true, ciFix: { attempt: 1 } });
    const after = (await tip(cluster.origin.dir, branch))!;
    expect(await isAncestor(red, after)).toBe(true);
    // One CI-fix attempt for the red commit: the killed run and its continuation are one.
    expect(await checks(pr)).toMatchObject({ attempts: 1, fixRuns: 1 });
    // Claude ran twice in the fix's worktree: the killed run, then its continuation (`--resume`).
    const worktree = fixRuns()[0]!.cwd;
    expect(
      readFileSync(runLog, "utf8")
        .split("\n")
        .filter((line) => line.includes(JSON.stringify(worktree))),
    ).toHaveLength(2);
    expect(cluster.github.pulls(REPO).filter((p) => p.head.includes("issue-50"))).toHaveLength(1);
  }, 150_000);

  it("a usage limit in the middle of a fix: the lone agent waits for the reset and finishes it, one attempt counted", async () => {
    const { pr, branch, red } = await openPullRequest(60, "Usage limit mid-fix");
    const resetAt = Math.ceil(Date.now() / 1000) + 8;
    writeFileSync(reset, String(resetAt));
    writeFileSync(scenario, "usage-limit");
    await goRed(pr, red);
    const waiting = await waitFor(
      "the fix waiting for the usage reset",
      recordIn(pr, (r) => r.state === "waiting" && r.ciFix !== undefined),
      40_000,
    );
    expect(waiting.waitingFor).toContain("usage limit");
    writeFileSync(scenario, "edit");

    const done = await waitFor(
      "the fix after the reset",
      recordIn(pr, (r) => r.state === "pr-open"),
      60_000,
    );
    expect(done.startedAt!).toBeGreaterThanOrEqual(resetAt * 1000);
    expect(done.ciFix).toMatchObject({ attempt: 1 });
    expect(await isAncestor(red, (await tip(cluster.origin.dir, branch))!)).toBe(true);
    expect(await checks(pr)).toMatchObject({ attempts: 1, fixRuns: 1 });
  }, 120_000);

  it("a login that expires in the middle of a fix: once its session-timeout issue is closed after a new login, the lone agent finishes the fix", async () => {
    const { pr, branch, red } = await openPullRequest(70, "Login expires mid-fix");
    writeFileSync(scenario, "not-logged-in");
    await goRed(pr, red);
    await waitFor(
      "the fix waiting for a new login",
      recordIn(pr, (r) => r.state === "waiting" && r.ciFix !== undefined),
      40_000,
    );
    const issue = await waitFor("the session-timeout issue", async () =>
      cluster.github.issues(REPO).find((i) => i.labels.includes("session-timeout") && i.state === "open"),
    );
    writeFileSync(scenario, "edit"); // `claude /login` on the agent's machine
    expect((await cluster.deliver("issues", closedIssuePayload(issue.number, issue.title, issue.labels))).status).toBe(200);

    const done = await waitFor(
      "the fix after the new login",
      recordIn(pr, (r) => r.state === "pr-open"),
      60_000,
    );
    expect(done.ciFix).toMatchObject({ attempt: 1 });
    expect(await isAncestor(red, (await tip(cluster.origin.dir, branch))!)).toBe(true);
    expect(await checks(pr)).toMatchObject({ attempts: 1, fixRuns: 1 });
  }, 120_000);
});

describe("a red commit's look survives a Redis restart (AOF): the fix runs once after it", () => {
  // A settle time long enough for the restart to land between the red events and the look.
  const bed = useAofCluster({ env: { CCC_CI_SETTLE_SECONDS: "8", CCC_RECONCILE_SECONDS: "1" }, agent: "aof-pc" });

  it("the red events' look waits in Redis through the restart and starts one CI fix", async () => {
    const { cluster, runLog } = bed;
    cluster.github.useOrigin(REPO, cluster.origin);
    expect(
      (await cluster.deliver("issues", labeledPayload("claude", { number: 90, title: "Red across a Redis restart", cloneUrl: cluster.origin.url }))).status,
    ).toBe(200);
    const opened = await waitFor(
      "the PR",
      async () => {
        const record = await cluster.store.get(`${REPO}#90`);
        return record?.state === "pr-open" && record;
      },
      40_000,
    );
    const [pr, red] = [opened.prNumber!, opened.pushedSha!];
    cluster.github.addCheckRun(REPO, { headSha: red, name: "unit-tests", conclusion: "failure", output: { title: "1 failed" } });
    expect((await cluster.deliver("check_suite", checkSuiteCompletedPayload(red, "failure", { pullRequests: [pr] }))).status).toBe(200);

    await bed.restartRedis();
    const done = await waitFor(
      "the fix after the restart",
      async () => {
        const record = await cluster.store.get(`${REPO}#${pr}`).catch(() => undefined);
        return record?.state === "pr-open" && record;
      },
      90_000,
    );
    expect(done).toMatchObject({ run: 1, ciFix: { attempt: 1, checks: ["unit-tests"] } });
    expect(
      readFileSync(runLog, "utf8")
        .split("\n")
        .filter((line) => line.includes("<ci-failures")),
    ).toHaveLength(1);
  }, 150_000);
});
