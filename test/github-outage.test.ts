import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STATE_LABELS } from "../src/shared/task-state.js";
import { waitFor } from "./helpers/agent-process.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { tip } from "./helpers/git-origin.js";
import { labeledPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";
const PULLS = `/repos/${REPO}/pulls`;
/**
 * The reporter's waits while GitHub is down, shrunk from 2 s … 60 s so that many tries fit in a
 * test. Not below 1 s: Octokit spaces writes a second apart, and a job waiting for its turn
 * holds the task's lock, which would starve the other jobs of the task.
 */
const RETRY = { baseMs: 100, maxMs: 1_000 };

describe("GitHub down or rate-limiting: reports are late, none is lost (app and agent processes)", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ env: { CCC_GITHUB_RETRY_BASE_MS: String(RETRY.baseMs), CCC_GITHUB_RETRY_MAX_MS: String(RETRY.maxMs) } });
    const started = await waitFor("the reporter to start", async () =>
      cluster.app
        .output()
        .split("\n")
        .find((l) => l.includes('"reporter started"')),
    );
    if (JSON.parse(started).githubRetry?.maxMs !== RETRY.maxMs) {
      throw new Error(
        `src/app/main.ts does not pass CCC_GITHUB_RETRY_BASE_MS / CCC_GITHUB_RETRY_MAX_MS to the Reporter (githubRetryBaseMs, githubRetryMaxMs): ${started}`,
      );
    }
    // Claude "runs" for 8 s: longer than the 5 s between two edits of the tracking comment, so
    // "Running" is on GitHub before the fault starts, and the fault lasts past the push.
    await cluster.startAgent({ name: "outage-agent", env: { FAKE_CLAUDE_DELAY_MS: "8000" } });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  /** Labels issue `number`, starts `fault` once the issue shows the task running, and resolves once the agent has pushed. */
  async function labelAndFaultBeforePush(number: number, fault: () => void): Promise<void> {
    const response = await cluster.deliver("issues", labeledPayload("claude", { number, cloneUrl: cluster.origin.url }));
    expect(response.status).toBe(200);
    await waitFor("the task running on the issue", async () => cluster.github.comments(REPO, number)[0]?.body.includes("**Running**"));
    fault();
    await waitFor(
      "the agent's push",
      async () => (await tip(cluster.origin.dir, `claude/issue-${number}-add-a-changelog-entry`)) && (await cluster.store.get(`${REPO}#${number}`))?.result,
    );
  }

  /** The end state a user must see, however long GitHub was away. */
  async function expectEverythingReported(number: number): Promise<void> {
    const { github } = cluster;
    const tracking = () => github.comments(REPO, number).filter((c) => c.user.type === "Bot");
    await waitFor("the PR link in the tracking comment", async () => tracking()[0]?.body.includes("**Pull request opened**"), 30_000);
    await waitFor("the events queue to drain", async () => {
      const counts = await cluster.eventCounts();
      return counts.waiting + counts.delayed + counts.active === 0;
    });

    const pulls = github.pulls(REPO).filter((p) => p.head === `octo-org:claude/issue-${number}-add-a-changelog-entry`);
    expect(pulls).toHaveLength(1);
    expect(
      github.requests.filter((r) => r.method === "POST" && r.path === PULLS && r.status === 201 && r.body.head === pulls[0]!.head.split(":")[1]),
    ).toHaveLength(1);
    expect(tracking()).toHaveLength(1);
    expect(github.labels(REPO, number).filter((l) => STATE_LABELS.includes(l))).toEqual(["claude:pr-open"]);
    const record = await cluster.store.get(`${REPO}#${number}`);
    expect(record).toMatchObject({ state: "pr-open", prNumber: pulls[0]!.number, labelState: "pr-open", renderedVersion: record!.version });
    expect((await cluster.eventCounts()).failed).toBe(0);
  }

  it("an outage from before the push to well after it (every call 503) delays the PR and the reports, and loses none", async () => {
    const { github } = cluster;
    await labelAndFaultBeforePush(7, () => github.outage({ status: 503 }));
    // The pushed event's first call is GET /pulls: 15 refusals are three times the old budget of five attempts.
    await waitFor("15 failed tries of the pushed event", async () => github.requests.filter((r) => r.path === PULLS && r.status === 503).length >= 15, 45_000);
    expect(github.pulls(REPO)).toEqual([]);
    github.recover();

    await expectEverythingReported(7);
  }, 90_000);

  it("a secondary rate limit makes every report wait its retry-after, then all of them land", async () => {
    const { github } = cluster;
    let faultAt = 0;
    await labelAndFaultBeforePush(8, () => {
      faultAt = Date.now();
      github.secondaryRateLimit({ retryAfterSeconds: 1 });
    });
    // Refusals of the reports after the push: the pushed event's GET /pulls, or, when its
    // installation token is due, the token request before it (under load either comes first).
    await waitFor("three refused reports", async () => github.requests.filter((r) => r.at >= faultAt && r.status === 403).length >= 3, 45_000).catch(
      (error: Error) => {
        const since = github.requests.filter((r) => r.at >= faultAt).map((r) => `${r.method} ${r.path} ${r.status}`);
        throw new Error(`${error.message}\nGitHub calls since the fault: ${since.join(", ") || "none"}\napp output:\n${cluster.app.output().slice(-4000)}`);
      },
    );
    github.recover();

    await expectEverythingReported(8);
    // One event asks GET /pulls: it waited out each retry-after instead of hammering.
    const tries = github.requests.filter((r) => r.path === PULLS && r.method === "GET" && r.query.get("head")?.endsWith("issue-8-add-a-changelog-entry"));
    const gaps = tries.slice(1).map((r, i) => r.at - tries[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(950);
  }, 90_000);
});
