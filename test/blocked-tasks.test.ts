import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "./helpers/agent-process.js";
import { runCcc } from "./helpers/ccc-cli.js";
import { useCluster, type Cluster } from "./helpers/cluster.js";
import { labeledPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";
const LOGGED_OUT = { FAKE_CLAUDE_SCENARIO: "not-logged-in" };

/** The tracking comment's latest body, once the app has written one. */
const latestComment = (cluster: Cluster, number: number) => cluster.github.comments(REPO, number).find((c) => c.user.type === "Bot")?.body;
const sessionIssue = (cluster: Cluster, repo: string) => cluster.github.issues(repo).find((i) => i.labels.includes("session-timeout"));

describe("a logged-out agent and no CCC_OPS_REPO: the first waiting task brings a person in", () => {
  const cluster = useCluster({ env: { CCC_RECONCILE_SECONDS: "1" } });
  beforeAll(async () => {
    await cluster.startAgent({ name: "pc-2", env: LOGGED_OUT });
  }, 60_000);

  it("opens the session-timeout issue in the task's repository and the task's comment says why it waits, naming that issue", async () => {
    await waitFor("the agent to find its login expired", async () => (await cluster.redis.get(`${cluster.prefix}:agent:pc-2`))?.includes('"session-expired"'));
    // Nowhere to report yet: no task, no ops repository.
    expect(sessionIssue(cluster, REPO)).toBeUndefined();

    expect((await cluster.deliver("issues", labeledPayload("claude", { number: 51, cloneUrl: cluster.origin.url }))).status).toBe(200);
    const issue = await waitFor("the session-timeout issue in the task's repository", async () => sessionIssue(cluster, REPO));
    expect(issue).toMatchObject({ title: "pc-2: Claude session expired", state: "open" });
    const body = await waitFor("the comment to name the issue", async () => {
      const latest = latestComment(cluster, 51);
      return latest?.includes(`see ${REPO}#${issue.number}`) ? latest : undefined;
    });
    expect(body).toContain("**Queued**: no agent can take it now: pc-2's Claude login has expired");
    expect(body).toContain("claude /login");
    expect((await cluster.store.get(`${REPO}#51`))?.state).toBe("queued");
    // An operator sees the same words without GitHub.
    const tasks = await runCcc(cluster.prefix, ["tasks"]);
    expect(tasks.code).toBe(0);
    expect(tasks.stdout).toContain("waits: no agent can take it now: pc-2's Claude login has expired");
  }, 60_000);

  it("a task queued while the cluster is paused or stopped says so, and who lifts it", async () => {
    expect((await runCcc(cluster.prefix, ["pause"])).code).toBe(0);
    await cluster.deliver("issues", labeledPayload("claude", { number: 52, title: "Queued while paused", cloneUrl: cluster.origin.url }));
    await waitFor("the paused explanation", async () => latestComment(cluster, 52)?.includes("**Queued**: the cluster is paused by ccc"));
    expect(latestComment(cluster, 52)).toContain("resume");

    expect((await runCcc(cluster.prefix, ["stop"])).code).toBe(0);
    await waitFor("the stopped explanation", async () => latestComment(cluster, 52)?.includes("the cluster is stopped (emergency stop by ccc ("));
    expect((await runCcc(cluster.prefix, ["resume"])).code).toBe(0);
    // Back to the agent's own blocker once the cluster runs again.
    await waitFor("the login explanation again", async () => latestComment(cluster, 52)?.includes("pc-2's Claude login has expired"));
  }, 60_000);
});

describe("a logged-out agent with CCC_OPS_REPO set", () => {
  const cluster = useCluster({ env: { CCC_RECONCILE_SECONDS: "1", CCC_OPS_REPO: "octo-org/ops" } });
  beforeAll(async () => {
    await cluster.startAgent({ name: "pc-3", env: LOGGED_OUT });
  }, 60_000);

  it("opens the issue in the ops repository at once, and a waiting task points there", async () => {
    const issue = await waitFor("the session-timeout issue in the ops repository", async () => sessionIssue(cluster, "octo-org/ops"));
    expect(issue.title).toBe("pc-3: Claude session expired");
    await cluster.deliver("issues", labeledPayload("claude", { number: 61, cloneUrl: cluster.origin.url }));
    await waitFor("the comment to name the ops issue", async () => latestComment(cluster, 61)?.includes(`see octo-org/ops#${issue.number}`));
    expect(sessionIssue(cluster, REPO)).toBeUndefined();
  }, 60_000);
});
