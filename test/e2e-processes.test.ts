import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STATE_LABELS } from "../src/shared/task-state.js";
import { waitFor } from "./helpers/agent-process.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { branchCommits, listBranches } from "./helpers/git-origin.js";
import { labeledPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";
const BRANCH = "claude/issue-7-add-a-changelog-entry";

/** What a tracking comment body says, in a word. */
const stateOf = (body: string) =>
  body.includes("**Queued**") ? "queued" : body.includes("**Running**") ? "running" : body.includes("**Pull request opened**") ? "pr-open" : "other";

describe("end to end as users run it: app process, agent process, fake GitHub, local origin", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("a claude label ends in one pushed branch, one PR, and one tracking comment that went queued → running → pr-open", async () => {
    const { github } = cluster;
    const tracking = () => github.comments(REPO, 7).filter((c) => c.user.type === "Bot");

    const response = await cluster.deliver("issues", labeledPayload("claude", { cloneUrl: cluster.origin.url }));
    expect(response.status).toBe(200);
    // The agent starts once the task is visibly queued, as when every agent is busy.
    await waitFor("the queued tracking comment", async () => tracking()[0]?.body.includes("**Queued**"));
    // Claude "runs" longer than the app's 5 s between edits of one comment, so "running" shows.
    await cluster.startAgent({ name: "e2e-agent", env: { FAKE_CLAUDE_DELAY_MS: "6000" } });
    await waitFor("the PR link in the tracking comment", async () => tracking()[0]?.body.includes("/pull/"), 40_000);

    expect((await listBranches(cluster.origin.dir)).filter((b) => b.startsWith("claude/"))).toEqual([BRANCH]);
    expect((await branchCommits(cluster.origin.dir, BRANCH)).length).toBeGreaterThan(1);

    const pulls = github.pulls(REPO);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ title: "Add a changelog entry", head: `octo-org:${BRANCH}`, base: "main", state: "open" });
    expect(pulls[0]!.body).toContain("Closes #7");

    expect(tracking()).toHaveLength(1);
    const states = tracking()[0]!
      .bodies.map(stateOf)
      .filter((s, i, all) => s !== all[i - 1]);
    expect(states).toEqual(["queued", "running", "pr-open"]);
    expect(github.labels(REPO, 7).filter((l) => STATE_LABELS.includes(l))).toEqual(["claude:pr-open"]);

    expect(await cluster.store.get(`${REPO}#7`)).toMatchObject({ state: "pr-open", prNumber: pulls[0]!.number, agent: "e2e-agent" });
    expect(github.requests.filter((r) => !r.matched).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  }, 60_000);
});
