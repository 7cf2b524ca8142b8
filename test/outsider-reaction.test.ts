import { describe, expect, it } from "vitest";
import { waitFor } from "./helpers/agent-process.js";
import { useCluster } from "./helpers/cluster.js";
import { commentPayload } from "./helpers/payloads.js";

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
});
