import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STATE_LABELS } from "../src/shared/task-state.js";
import { waitFor } from "./helpers/agent-process.js";
import { startAppProcess } from "./helpers/app-process.js";
import { deliver } from "./helpers/app-server.js";
import { useCluster, type Cluster } from "./helpers/cluster.js";
import { closedIssuePayload, commentPayload, labeledPayload } from "./helpers/payloads.js";
import { REDIS_URL } from "./helpers/redis.js";
import { useAofCluster } from "./helpers/redis-server.js";

const REPO = "octo-org/hello";

/** Claude's runs, from the fake CLI's log (the agent's login probes left out). */
function runsIn(log: string): Array<{ branch: string | null; prompt: string }> {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { branch: string | null; prompt: string })
    .filter((run) => !run.prompt.startsWith("Reply with the single word OK"));
}

/** What the tests of one cluster share: its agent's run log, and how to read the issue's side. */
function dependencyCluster(env: Record<string, string>) {
  const cluster = useCluster({ env });
  const scratch = mkdtempSync(join(tmpdir(), "ccc-dependencies-"));
  const runLog = join(scratch, "runs.jsonl");
  beforeAll(async () => {
    // Pull requests are numbered after the fake's issues: keep them clear of the issues the tests name.
    cluster.github.setIssue(REPO, 900, { title: "Numbering starts above here" });
    await cluster.startAgent({ name: "deps-pc", env: { FAKE_CLAUDE_RUN_LOG: runLog } });
  }, 60_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  return {
    cluster,
    runs: (number: number) => runsIn(runLog).filter((run) => run.branch?.startsWith(`claude/issue-${number}-`)),
    task: (number: number) => cluster.store.get(`${REPO}#${number}`),
    comment: (number: number) => cluster.github.comments(REPO, number).find((c) => c.user.type === "Bot")?.body,
    stateLabels: (number: number) => cluster.github.labels(REPO, number).filter((l) => STATE_LABELS.includes(l)),
    pullsFor: (number: number) => cluster.github.pulls(REPO).filter((p) => p.head.includes(`claude/issue-${number}-`)),
    label: (number: number, body: string, extra: (payload: Record<string, any>) => void = () => {}) => {
      cluster.github.setIssue(REPO, number, { title: `Issue ${number}`, body });
      const payload = labeledPayload("claude", { number, title: `Issue ${number}`, body, cloneUrl: cluster.origin.url });
      extra(payload);
      return cluster.deliver("issues", payload);
    },
    close: (number: number, deliveryId?: string) => {
      cluster.github.setIssue(REPO, number, { state: "closed" });
      return cluster.deliver("issues", closedIssuePayload(number, `Issue ${number}`, [], { cloneUrl: cluster.origin.url }), deliveryId);
    },
  };
}

/** Waits until the issue shows the task blocked: record, label and tracking comment. */
async function expectBlocked(side: ReturnType<typeof dependencyCluster>, number: number, names: string): Promise<string> {
  const { cluster } = side;
  await waitFor(`#${number} to be blocked`, async () => (await side.task(number))?.state === "blocked");
  await cluster.waitForGitHub(`#${number}'s claude:blocked label`, async () => side.stateLabels(number).join() === "claude:blocked", `${REPO}#${number}`);
  return cluster.waitForGitHub(
    `#${number}'s tracking comment naming ${names}`,
    async () => {
      const body = side.comment(number);
      return body?.includes("🔗 **Blocked** by") && body.includes(names) ? body : undefined;
    },
    `${REPO}#${number}`,
  );
}

async function expectOnePullRequest(side: ReturnType<typeof dependencyCluster>, number: number): Promise<void> {
  await waitFor(`#${number}'s pull request`, async () => (await side.task(number))?.state === "pr-open", 40_000);
  expect(side.pullsFor(number)).toHaveLength(1);
  expect(side.runs(number)).toHaveLength(1);
  expect((await side.task(number))!.run).toBe(1);
}

describe("an issue blocked by open issues waits, and starts when they close (close events)", () => {
  // The periodic check is far off: here only the close events can start a task.
  const side = dependencyCluster({ CCC_RECONCILE_SECONDS: "1", CCC_DEPENDENCY_CHECK_SECONDS: "3600" });
  const { cluster } = side;

  it("`Blocked by #40` holds the task blocked, names #40, runs nothing; #40's close starts it once, however often the close is delivered", async () => {
    cluster.github.setIssue(REPO, 40, { title: "The API it needs", state: "open" });
    expect((await side.label(41, "Add the endpoint.\n\nBlocked by #40")).status).toBe(200);
    const body = await expectBlocked(side, 41, "#40");
    expect(body).toContain("`/claude run --force`");
    expect(await side.task(41)).toMatchObject({ state: "blocked", dependsOn: { open: [`${REPO}#40`], unreadable: [] } });
    expect(side.runs(41)).toEqual([]);
    // Labelled again while blocked: nothing new, and the answer says how to start it.
    expect((await side.label(41, "Add the endpoint.\n\nBlocked by #40")).status).toBe(200);
    await cluster.waitForGitHub("the reply to the second label", async () =>
      cluster.github
        .comments(REPO, 41)
        .some((c) => c.body.includes("already on this issue (blocked)") && c.body.includes("`/claude run --force` starts it now")),
    );

    // Two deliveries of the close (a redelivery, and a second event): one run, one PR.
    const [first, second] = await Promise.all([side.close(40), side.close(40)]);
    expect([first.status, second.status]).toEqual([200, 200]);
    await side.close(40, "the-same-delivery");
    await side.close(40, "the-same-delivery");
    await expectOnePullRequest(side, 41);
    await cluster.waitForGitHub("#41's claude:pr-open label", async () => side.stateLabels(41).join() === "claude:pr-open", `${REPO}#41`);
  }, 120_000);

  it("GitHub's own blocked_by dependency holds the task the same way", async () => {
    cluster.github.setIssue(REPO, 42, { title: "Schema first", state: "open" });
    cluster.github.setIssue(REPO, 43, { blockedBy: [`${REPO}#42`] });
    const summary = { blocked_by: 1, total_blocked_by: 1, blocking: 0, total_blocking: 0 };
    expect((await side.label(43, "Nothing in the body about it.", (p) => (p.issue.issue_dependencies_summary = summary))).status).toBe(200);
    await expectBlocked(side, 43, "#42");
    expect(side.runs(43)).toEqual([]);
    await side.close(42);
    await expectOnePullRequest(side, 43);
  }, 120_000);

  it("a blocker in a repository the app cannot read holds the task and says so", async () => {
    cluster.github.hideRepo("secret-org/vault");
    expect((await side.label(44, "Depends on secret-org/vault#3")).status).toBe(200);
    const body = await expectBlocked(side, 44, "secret-org/vault#3");
    expect(body).toContain("the app cannot read it");
    expect(side.runs(44)).toEqual([]);
  }, 60_000);

  it("two issues blocked by each other: the second one's intake finds the cycle, both fail saying so, nothing runs", async () => {
    expect((await side.label(50, "Depends on #51")).status).toBe(200);
    await expectBlocked(side, 50, "#51");
    expect((await side.label(51, "Blocked by #50")).status).toBe(200);
    for (const number of [50, 51]) {
      await waitFor(`#${number} to fail on the cycle`, async () => (await side.task(number))?.state === "failed");
      const body = await cluster.waitForGitHub(
        `#${number}'s comment naming the cycle`,
        async () => side.comment(number)?.includes("cycle") && side.comment(number),
      );
      expect(body).toMatch(/#5[01] waits for #5[01], which waits for #5[01]/);
      expect(body).toContain("`/claude run --force`");
    }
    expect([...side.runs(50), ...side.runs(51)]).toEqual([]);
  }, 60_000);

  it("`/claude run --force` starts a blocked task at once, its blocker still open; --force on an unblocked issue skips the check", async () => {
    expect((await side.label(60, "Blocked by #61")).status).toBe(200);
    await expectBlocked(side, 60, "#61");
    const force = cluster.github.addComment(REPO, 60, "/claude run --force");
    expect((await cluster.deliver("issue_comment", commentPayload(force.body, { number: 60, commentId: force.id, cloneUrl: cluster.origin.url }))).status).toBe(
      200,
    );
    await expectOnePullRequest(side, 60);
    expect(cluster.github.issue(REPO, 61)?.state).toBe("open");

    // The cycle's issue, forced: it runs despite the cycle.
    const again = cluster.github.addComment(REPO, 51, "/claude run --force");
    expect(
      (
        await cluster.deliver(
          "issue_comment",
          commentPayload(again.body, { number: 51, commentId: again.id, cloneUrl: cluster.origin.url, body: "Blocked by #50" }),
        )
      ).status,
    ).toBe(200);
    await waitFor("#51's forced run to open its PR", async () => (await side.task(51))?.state === "pr-open", 40_000);
    expect(side.runs(51)).toHaveLength(1);
  }, 120_000);
});

describe("a missed close event: the reconciler's periodic check starts the task", () => {
  const side = dependencyCluster({ CCC_RECONCILE_SECONDS: "1", CCC_DEPENDENCY_CHECK_SECONDS: "1" });
  const { cluster }: { cluster: Cluster } = side;

  it("#70 closes on GitHub with no event reaching the app; the blocked #71 starts anyway, once", async () => {
    expect((await side.label(71, "Blocked by #70")).status).toBe(200);
    await expectBlocked(side, 71, "#70");
    expect(side.runs(71)).toEqual([]);
    cluster.github.setIssue(REPO, 70, { state: "closed" });
    await expectOnePullRequest(side, 71);
    expect(cluster.github.requests.some((r) => r.method === "GET" && r.path === `/repos/${REPO}/issues/70`)).toBe(true);
  }, 120_000);

  it("a blocked task survives the app's restart: the new app's close event finds it through the index in Redis (last: it stops the cluster's app)", async () => {
    expect((await side.label(73, "Depends on #72")).status).toBe(200);
    await expectBlocked(side, 73, "#72");
    expect(await cluster.app.stop()).toBe(0);
    // The new app's periodic check is far off: only the close event, through the index, can start it.
    const again = await startAppProcess({
      prefix: cluster.prefix,
      env: { ...cluster.github.env, REDIS_URL, CCC_RECONCILE_SECONDS: "1", CCC_DEPENDENCY_CHECK_SECONDS: "3600" },
    });
    try {
      cluster.github.setIssue(REPO, 72, { state: "closed" });
      const closed = closedIssuePayload(72, "Issue 72", [], { cloneUrl: cluster.origin.url });
      expect((await deliver(`${again.base}/api/github/webhooks`, "issues", closed)).status).toBe(200);
      await expectOnePullRequest(side, 73);
    } finally {
      await again.stop();
    }
  }, 120_000);
});

describe("a blocked task survives a Redis restart (AOF), and its blocker's close still starts it once", () => {
  const bed = useAofCluster({ env: { CCC_RECONCILE_SECONDS: "1", CCC_DEPENDENCY_CHECK_SECONDS: "3600" }, agent: "aof-pc" });

  it("held job, record and index come back from the AOF; the close after the restart runs it, one PR", async () => {
    const { cluster, runLog } = bed;
    cluster.github.setIssue(REPO, 900, { title: "Numbering starts above here" });
    cluster.github.setIssue(REPO, 81, { title: "Issue 81", body: "Blocked by #80" });
    const labeled = labeledPayload("claude", { number: 81, title: "Issue 81", body: "Blocked by #80", cloneUrl: cluster.origin.url });
    expect((await cluster.deliver("issues", labeled)).status).toBe(200);
    await waitFor("#81 to be blocked", async () => (await cluster.store.get(`${REPO}#81`))?.state === "blocked");

    await bed.restartRedis();
    await waitFor("Redis to answer again, with the record", async () => (await cluster.store.get(`${REPO}#81`).catch(() => undefined))?.state === "blocked");

    cluster.github.setIssue(REPO, 80, { state: "closed" });
    const closed = closedIssuePayload(80, "Issue 80", [], { cloneUrl: cluster.origin.url });
    await waitFor("the close to be taken", async () => (await cluster.deliver("issues", closed).catch(() => undefined))?.status === 200, 30_000);
    await waitFor("#81's pull request", async () => (await cluster.store.get(`${REPO}#81`))?.state === "pr-open", 60_000);
    expect(cluster.github.pulls(REPO).filter((p) => p.head.includes("claude/issue-81-"))).toHaveLength(1);
    expect(runsIn(runLog).filter((run) => run.branch?.startsWith("claude/issue-81-"))).toHaveLength(1);
  }, 120_000);
});
