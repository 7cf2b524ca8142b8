import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STATE_LABELS } from "../src/shared/task-state.js";
import { waitFor } from "./helpers/agent-process.js";
import { runCcc } from "./helpers/ccc-cli.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { closedPullRequestPayload, labeledPayload, reopenedPullRequestPayload } from "./helpers/payloads.js";
import { parseMetrics, sampleValue } from "./helpers/prometheus.js";

const REPO = "octo-org/hello";
/** What the fake CLI's default scenario reports as the run's cost. */
const FAKE_RUN_COST = 0.0234;

describe("a pull request's fate, through the app and agent processes", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const stateLabels = (issue: number) => cluster.github.labels(REPO, issue).filter((l) => STATE_LABELS.includes(l));
  const tracking = (issue: number) => cluster.github.comments(REPO, issue).filter((c) => c.user.type === "Bot");
  const metrics = async () => {
    const response = await cluster.app.request("/metrics");
    expect(response.status).toBe(200);
    return parseMetrics(await response.text());
  };

  it("merged and closed PRs end their tasks merged and closed, once, and the merge numbers follow per specialty, agent and account", async () => {
    for (const [number, title] of [
      [7, "Add a changelog entry"],
      [8, "Fix the typo in the README"],
    ] as const) {
      expect((await cluster.deliver("issues", labeledPayload("claude", { number, title, cloneUrl: cluster.origin.url }))).status).toBe(200);
    }
    await cluster.startAgent({ name: "pr-agent", extraArgs: ["--account", "team-a"] });
    const opened = async (issue: number) => {
      const record = await cluster.store.get(`${REPO}#${issue}`);
      return record?.state === "pr-open" && stateLabels(issue).includes("claude:pr-open") ? record : undefined;
    };
    const first = await waitFor("issue 7's PR", () => opened(7), 40_000);
    const second = await waitFor("issue 8's PR", () => opened(8), 40_000);
    // The record knows the account the run used.
    expect(first).toMatchObject({ agent: "pr-agent", account: "team-a", result: { costUsd: FAKE_RUN_COST } });
    const [pr7, pr8] = [first.prNumber!, second.prNumber!];

    // Merged two hours after it was opened.
    const closedAt = new Date();
    const merged = closedPullRequestPayload(pr7, { merged: true, head: first.branch, createdAt: new Date(closedAt.getTime() - 7_200_000), closedAt });
    expect((await cluster.deliver("pull_request", merged, "merge-7")).status).toBe(200);
    await waitFor("claude:merged on issue 7", async () => stateLabels(7).join() === "claude:merged");
    await waitFor("the merged tracking comment", async () => tracking(7)[0]?.body.includes("**Pull request merged**"));
    expect(tracking(7)).toHaveLength(1);
    expect(tracking(7)[0]!.body).toContain(`/pull/${pr7}`);
    const mergedRecord = await cluster.store.get(`${REPO}#7`);
    expect(mergedRecord).toMatchObject({ state: "merged", mergedAt: closedAt.getTime(), prNumber: pr7 });

    const closed = closedPullRequestPayload(pr8, { merged: false, head: second.branch, createdAt: new Date(closedAt.getTime() - 600_000), closedAt });
    expect((await cluster.deliver("pull_request", closed, "close-8")).status).toBe(200);
    await waitFor("claude:closed on issue 8", async () => stateLabels(8).join() === "claude:closed");
    await waitFor("the closed tracking comment", async () => tracking(8)[0]?.body.includes("**Pull request closed without merging**"));
    expect(await cluster.store.get(`${REPO}#8`)).toMatchObject({ state: "closed", closedAt: closedAt.getTime() });

    // The same delivery again, GitHub's resend of it under a new id, a late "closed" for the
    // merged PR, and a PR the cluster never opened: the handler is done when the delivery is
    // answered (it writes only to Redis), so nothing may have changed by then.
    const before = await cluster.store.get(`${REPO}#7`);
    const comments7 = tracking(7)[0]!.bodies.length;
    expect((await cluster.deliver("pull_request", merged, "merge-7")).status).toBe(200);
    expect((await cluster.deliver("pull_request", merged, "merge-7-resent")).status).toBe(200);
    expect((await cluster.deliver("pull_request", closedPullRequestPayload(pr7, { merged: false, closedAt }), "late-close-7")).status).toBe(200);
    expect((await cluster.deliver("pull_request", closedPullRequestPayload(999, { merged: true }), "stranger")).status).toBe(200);
    expect((await cluster.store.get(`${REPO}#7`))?.version).toBe(before?.version);
    expect((await cluster.store.get(`${REPO}#7`))?.state).toBe("merged");
    expect(stateLabels(7)).toEqual(["claude:merged"]);

    const samples = await metrics();
    const who = { specialty: "general", agent: "pr-agent", account: "team-a" };
    expect(sampleValue(samples, "ccc_pull_requests", { ...who, outcome: "merged" })).toBe(1);
    expect(sampleValue(samples, "ccc_pull_requests", { ...who, outcome: "closed" })).toBe(1);
    expect(sampleValue(samples, "ccc_pull_request_cost_usd", { ...who, outcome: "merged" })).toBeCloseTo(FAKE_RUN_COST, 6);
    const groups: Array<Record<string, string>> = [{ specialty: "general" }, { agent: "pr-agent" }, { account: "team-a" }];
    for (const labels of groups) {
      expect(sampleValue(samples, "ccc_pull_request_merge_rate", labels)).toBe(0.5);
      expect(sampleValue(samples, "ccc_pull_request_cost_per_merged_usd", labels)).toBeCloseTo(FAKE_RUN_COST, 6);
      expect(sampleValue(samples, "ccc_pull_request_time_to_merge_seconds", { ...labels, stat: "p50" })).toBe(7200);
    }
    expect(sampleValue(samples, "ccc_tasks", { state: "merged", specialty: "general" })).toBe(1);
    expect(sampleValue(samples, "ccc_tasks", { state: "closed", specialty: "general" })).toBe(1);

    const usage = await runCcc(cluster.prefix, ["usage", "--json"]);
    expect(usage.code, usage.stderr).toBe(0);
    type Figures = Record<string, unknown>;
    const report = JSON.parse(usage.stdout) as { pullRequests: { total: Figures; specialties: Figures[]; agents: Figures[]; accounts: Figures[] } };
    const figures = { merged: 1, closed: 1, mergeRate: 0.5, timeToMergeP50Ms: 7_200_000 };
    expect(report.pullRequests.total).toMatchObject(figures);
    expect(report.pullRequests.specialties).toEqual([expect.objectContaining({ specialty: "general", ...figures })]);
    expect(report.pullRequests.agents).toEqual([expect.objectContaining({ agent: "pr-agent", ...figures })]);
    expect(report.pullRequests.accounts).toEqual([expect.objectContaining({ account: "team-a", ...figures })]);
    expect(report.pullRequests.accounts[0]!.costPerMergedUsd).toBeCloseTo(FAKE_RUN_COST, 6);

    const text = await runCcc(cluster.prefix, ["usage"]);
    expect(text.stdout).toMatch(
      /PULL REQUESTS BY ACCOUNT\s+MERGED\s+CLOSED\s+MERGE RATE\s+COST\/MERGED\s+TO MERGE P50\s+MEAN\n\s*team-a\s+1\s+1\s+50%\s+\$0\.02\s+2\.0h\s+2\.0h\n\s*all\s+1\s+1\s+50%/,
    );
    expect(comments7).toBe(tracking(7)[0]!.bodies.length);
    expect((await cluster.eventCounts()).failed).toBe(0);
  }, 120_000);

  it("a closed PR reopened: its task is pr-open again and its closing no longer counts; a redelivery changes nothing", async () => {
    const closed = await cluster.store.get(`${REPO}#8`);
    expect(closed).toMatchObject({ state: "closed" });
    expect((await cluster.deliver("pull_request", reopenedPullRequestPayload(closed!.prNumber!, { head: closed!.branch }), "reopen-8")).status).toBe(200);
    await waitFor("claude:pr-open on issue 8 again", async () => stateLabels(8).join() === "claude:pr-open");
    const reopened = await cluster.store.get(`${REPO}#8`);
    expect(reopened).toMatchObject({ state: "pr-open", prNumber: closed!.prNumber });
    expect(reopened?.closedAt).toBeUndefined();
    expect((await cluster.deliver("pull_request", reopenedPullRequestPayload(closed!.prNumber!, { head: closed!.branch }), "reopen-8")).status).toBe(200);
    expect((await cluster.store.get(`${REPO}#8`))?.version).toBe(reopened?.version);

    const usage = await runCcc(cluster.prefix, ["usage", "--json"]);
    expect(JSON.parse(usage.stdout).pullRequests.total).toMatchObject({ merged: 1, closed: 0, mergeRate: 1 });
    const samples = await metrics();
    expect(sampleValue(samples, "ccc_pull_request_merge_rate", { account: "team-a" })).toBe(1);
    // The merged PR's task is not touched by a reopen of its number either.
    const merged = await cluster.store.get(`${REPO}#7`);
    expect((await cluster.deliver("pull_request", reopenedPullRequestPayload(merged!.prNumber!, { head: merged!.branch }), "reopen-7")).status).toBe(200);
    expect((await cluster.store.get(`${REPO}#7`))?.state).toBe("merged");
  }, 60_000);
});
