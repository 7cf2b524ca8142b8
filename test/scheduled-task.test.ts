import { describe, expect, it } from "vitest";
import { formatStartTime } from "../src/shared/start-time.js";
import type { TaskRecord } from "../src/queue/task-record.js";
import { waitFor } from "./helpers/agent-process.js";
import { startAppProcess } from "./helpers/app-process.js";
import { REDIS_URL } from "./helpers/redis.js";
import { runCcc } from "./helpers/ccc-cli.js";
import { useCluster, type Cluster } from "./helpers/cluster.js";
import { commentPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";

/** The task's record once it is in `state`, for `waitFor`. */
function recordIn(cluster: Cluster, number: number, state: TaskRecord["state"]) {
  return async () => {
    const record = await cluster.store.get(`${REPO}#${number}`);
    return record?.state === state ? record : undefined;
  };
}

/** A start time `msAhead` from now in whole seconds, as a person writes one, and its ISO form. */
function startTimeIn(msAhead: number): { at: number; iso: string } {
  const at = Math.ceil((Date.now() + msAhead) / 1000) * 1000;
  return { at, iso: new Date(at).toISOString().replace(".000Z", "Z") };
}

describe("scheduled tasks: `/claude run at <time>` (app, agent and ccc processes)", () => {
  const cluster = useCluster();

  const inState = (number: number, state: TaskRecord["state"]) => recordIn(cluster, number, state);
  const tracking = (number: number) => cluster.github.comments(REPO, number).find((c) => c.user.type === "Bot");

  it("waits as scheduled, shows its time on the issue and in `ccc tasks`, and an idle agent starts it at that time, not before", async () => {
    await cluster.startAgent({ name: "night-pc" });
    // Whole seconds, as a person writes a time; far enough ahead to see it scheduled first.
    const { at, iso } = startTimeIn(10_000);
    const response = await cluster.deliver(
      "issue_comment",
      commentPayload(`/claude run at ${iso}`, { number: 41, title: "Tidy the changelog", cloneUrl: cluster.origin.url, commentId: 4141 }),
    );
    expect(response.status).toBe(200);

    const queued = await waitFor("the scheduled task", inState(41, "queued"));
    expect(queued.notBefore).toBe(at);
    await waitFor("the tracking comment saying when", async () => tracking(41)?.body.includes(`🕑 **Scheduled** for ${formatStartTime(at)}`));
    expect(cluster.github.labels(REPO, 41)).toContain("claude:queued");

    const listed = await runCcc(cluster.prefix, ["tasks"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${REPO}#41\\s+scheduled ${formatStartTime(at)}`));
    const json = await runCcc(cluster.prefix, ["tasks", "--json"]);
    expect(JSON.parse(json.stdout).tasks[0]).toMatchObject({ taskId: `${REPO}#41`, state: "queued", notBefore: at });

    // The agent is idle the whole time; it starts the task once the time has come.
    const done = await waitFor("the scheduled task's PR", inState(41, "pr-open"), 60_000);
    expect(done.startedAt!).toBeGreaterThanOrEqual(at);
    console.info(`figure: scheduled task started ${done.startedAt! - at} ms after its time`);
    expect(cluster.github.pulls(REPO)).toHaveLength(1);
  }, 90_000);

  it("refuses a time in the past with a reply that shows the forms that work, and queues nothing", async () => {
    const response = await cluster.deliver("issue_comment", commentPayload("/claude run at 2020-01-01T00:00Z", { number: 42, commentId: 4242 }));
    expect(response.status).toBe(200);
    const reply = await waitFor("the reply", async () => cluster.github.comments(REPO, 42).find((c) => c.user.type === "Bot"));
    expect(reply.body).toContain("is in the past");
    expect(reply.body).toContain("in 90m");
    expect(await cluster.store.get(`${REPO}#42`)).toBeUndefined();
  });
});

describe("a scheduled task across restarts (app, agent and ccc processes)", () => {
  const cluster = useCluster();
  const inState = (number: number, state: TaskRecord["state"]) => recordIn(cluster, number, state);

  it("survives its lone agent and the app both restarting while it waits: started once, at its time, by the restarted agent", async () => {
    const first = await cluster.startAgent({ name: "night-pc-2" });
    const { at, iso } = startTimeIn(20_000);
    const response = await cluster.deliver(
      "issue_comment",
      commentPayload(`/claude run at ${iso}`, { number: 43, title: "Rotate the logs", cloneUrl: cluster.origin.url, commentId: 4343 }),
    );
    expect(response.status).toBe(200);
    await waitFor("the scheduled task", inState(43, "queued"));

    // Both go down before the time; what holds the schedule is Redis, not a process.
    expect(await first.stop()).toBe(0);
    expect(await cluster.app.stop()).toBe(0);
    const app = await startAppProcess({ prefix: cluster.prefix, env: { ...cluster.github.env, REDIS_URL } });
    try {
      await cluster.startAgent({ name: "night-pc-2" });
      expect(Date.now()).toBeLessThan(at);
      const done = await waitFor("the scheduled task's PR", inState(43, "pr-open"), 60_000);
      expect(done.startedAt!).toBeGreaterThanOrEqual(at);
      expect(done.run).toBe(1);
      expect(cluster.github.pulls(REPO).filter((p) => p.head.includes("issue-43"))).toHaveLength(1);
    } finally {
      await app.stop();
    }
  }, 90_000);
});
