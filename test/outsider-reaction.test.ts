import { describe, expect, it } from "vitest";
import { waitFor } from "./helpers/agent-process.js";
import { useCluster } from "./helpers/cluster.js";
import { commentPayload, examplePayload, labeledPayload, shapeIssuePayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";

describe("`/claude` comments from users without write access, through the app and its reporter", () => {
  const cluster = useCluster();

  it("get one 👎 reaction on the first comment, written by the reporter, and no comment on the issue however many they post", async () => {
    cluster.github.setRole("visitor", "read");
    for (const [i, body] of ["/claude help", "/claude status", "/claude run", "/claude stop"].entries()) {
      expect((await cluster.deliver("issue_comment", commentPayload(body, { sender: "visitor", commentId: 700 + i }))).status).toBe(200);
    }
    const reactions = () => cluster.github.requests.filter((r) => r.method === "POST" && r.path.endsWith("/reactions"));
    await waitFor("the reaction", async () => reactions().length > 0 && (await cluster.eventCounts()).completed >= 1, 20_000);
    expect(await cluster.eventCounts()).toMatchObject({ waiting: 0, delayed: 0, active: 0, failed: 0, completed: 1 });
    expect(reactions().map((r) => [r.path, r.body.content, r.status])).toEqual([[`/repos/${REPO}/issues/comments/700/reactions`, "-1", 201]]);
    expect(cluster.github.comments(REPO, 7)).toEqual([]);
    expect(cluster.github.requests.filter((r) => r.method !== "GET" && !r.path.endsWith("/reactions") && !r.path.includes("/access_tokens"))).toEqual([]);
    expect(await cluster.store.get(`${REPO}#7`)).toBeUndefined();
  }, 60_000);

  /** Every reporter event handled: nothing waiting, running or delayed. */
  const eventsSettled = async () => {
    const counts = await cluster.eventCounts();
    return counts.waiting + counts.active + counts.delayed === 0;
  };
  const issueReactions = (repo: string, number: number) =>
    cluster.github.requests.filter((r) => r.method === "POST" && r.path === `/repos/${repo}/issues/${number}/reactions`);

  it("a trigger label from a user with triage access gets one 👎 on the issue, no comment and no task, however often they label", async () => {
    cluster.github.setRole("triager", "triage");
    expect((await cluster.deliver("issues", labeledPayload("claude", { sender: "triager", number: 8 }))).status).toBe(200);
    await waitFor("the reaction on the issue", async () => issueReactions(REPO, 8).length > 0 && (await eventsSettled()), 20_000);
    // Within the window: a second label (a specialty one too) adds nothing.
    expect((await cluster.deliver("issues", labeledPayload("claude:backend", { sender: "triager", number: 8, labels: ["claude"] }))).status).toBe(200);
    await waitFor("the events queue", eventsSettled, 20_000);

    expect(issueReactions(REPO, 8).map((r) => [r.body.content, r.status])).toEqual([["-1", 201]]);
    expect(cluster.github.comments(REPO, 8)).toEqual([]);
    expect(await cluster.store.get(`${REPO}#8`)).toBeUndefined();
    expect((await cluster.eventCounts()).failed).toBe(0);
  }, 60_000);

  it("a label from a user with read access on a repository whose config is broken gets no comment, only the reaction; a writer sees the config error", async () => {
    const broken = "octo-org/broken";
    cluster.github.setRole("visitor", "read");
    cluster.github.setFile(broken, ".github/claude-cluster.yml", "maxTurns: lots\n");
    expect((await cluster.deliver("issues", labeledPayload("claude", { repo: "broken", sender: "visitor", number: 3 }))).status).toBe(200);
    await waitFor("the reaction on the issue", async () => issueReactions(broken, 3).length > 0 && (await eventsSettled()), 20_000);
    expect(cluster.github.comments(broken, 3)).toEqual([]);
    expect(await cluster.store.get(`${broken}#3`)).toBeUndefined();

    expect((await cluster.deliver("issues", labeledPayload("claude", { repo: "broken", sender: "maintainer", number: 4 }))).status).toBe(200);
    await waitFor("the config-error comment", async () => cluster.github.comments(broken, 4).length > 0 && (await eventsSettled()), 20_000);
    expect(cluster.github.comments(broken, 4).map((c) => c.body)).toEqual([expect.stringContaining("`maxTurns`")]);
    expect(issueReactions(broken, 4)).toEqual([]);
  }, 60_000);

  it("a trigger label from a writer still queues the task, with no reaction", async () => {
    expect((await cluster.deliver("issues", labeledPayload("claude", { sender: "maintainer", number: 10 }))).status).toBe(200);
    await waitFor("the queued task", async () => (await cluster.store.get(`${REPO}#10`)) !== undefined, 20_000);
    expect((await cluster.store.get(`${REPO}#10`))?.state).toBe("queued");
    expect(issueReactions(REPO, 10)).toEqual([]);
  }, 60_000);

  it("removing the trigger label takes the task away only when a writer does it: a triager's removal leaves it queued", async () => {
    cluster.github.setRole("triager", "triage");
    const unlabeled = (sender: string) => {
      const payload = shapeIssuePayload(examplePayload("issues", "unlabeled"), { sender, number: 11 });
      payload.label = { id: 99, node_id: "L99", url: "", name: "claude", color: "ededed", default: false, description: null };
      return payload;
    };
    expect((await cluster.deliver("issues", labeledPayload("claude", { sender: "maintainer", number: 11 }))).status).toBe(200);
    await waitFor("the queued task", async () => (await cluster.store.get(`${REPO}#11`))?.state === "queued", 20_000);

    expect((await cluster.deliver("issues", unlabeled("triager"))).status).toBe(200);
    await waitFor("the events queue", eventsSettled, 20_000);
    expect((await cluster.store.get(`${REPO}#11`))?.state).toBe("queued");

    expect((await cluster.deliver("issues", unlabeled("maintainer"))).status).toBe(200);
    await waitFor("the cancelled task", async () => (await cluster.store.get(`${REPO}#11`))?.state === "cancelled", 20_000);
  }, 60_000);
});
