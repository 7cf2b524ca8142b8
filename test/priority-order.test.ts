import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskRecord } from "../src/queue/task-record.js";
import { waitFor } from "./helpers/agent-process.js";
import { useCluster } from "./helpers/cluster.js";
import { commentPayload, labeledPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";

describe("priorities hold across the queues an agent serves (app and agent processes)", () => {
  const cluster = useCluster();
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ccc-priority-"));
    // Serves `backend` and `general`; one task at a time; each run holds until the test releases it.
    await cluster.startAgent({ name: "busy-pc", specialties: "backend", env: { FAKE_CLAUDE_HOLD_FILE: join(dir, "release") } });
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const record = (number: number) => cluster.store.get(`${REPO}#${number}`);
  const inState = (number: number, state: TaskRecord["state"]) => async () => {
    const found = await record(number);
    return found?.state === state ? found : undefined;
  };
  const comment = (number: number, body: string) =>
    cluster.deliver("issue_comment", commentPayload(body, { number, title: `Issue ${number}`, cloneUrl: cluster.origin.url, commentId: 9000 + number }));

  it("with the lone agent busy, a low backend task queued first runs after an urgent general one queued later", async () => {
    expect((await cluster.deliver("issues", labeledPayload("claude", { number: 31, title: "Keep the agent busy", cloneUrl: cluster.origin.url }))).status).toBe(
      200,
    );
    await waitFor("the first task running (and held)", inState(31, "running"), 30_000);

    expect((await comment(32, "/claude run backend priority:low")).status).toBe(200);
    const low = await waitFor("the low backend task queued", inState(32, "queued"));
    expect(low).toMatchObject({ specialty: "backend", priority: "low", queue: "tasks-backend" });
    expect((await comment(33, "/claude run general priority:urgent")).status).toBe(200);
    const urgent = await waitFor("the urgent general task queued", inState(33, "queued"));
    expect(urgent).toMatchObject({ specialty: "general", priority: "urgent", queue: "tasks-general" });
    expect(low.queuedAt).toBeLessThan(urgent.queuedAt);

    await writeFile(join(dir, "release"), "go");
    const [first, lowDone, urgentDone] = await Promise.all([
      waitFor("the first task's PR", inState(31, "pr-open"), 60_000),
      waitFor("the low task's PR", inState(32, "pr-open"), 60_000),
      waitFor("the urgent task's PR", inState(33, "pr-open"), 60_000),
    ]);
    const order = [first, lowDone, urgentDone].sort((a, b) => a.startedAt! - b.startedAt!).map((r) => `#${r.issueNumber} ${r.priority} ${r.specialty}`);
    console.info(`figure: run order with one busy agent: ${order.join(" → ")}`);
    expect(order).toEqual(["#31 normal general", "#33 urgent general", "#32 low backend"]);
  }, 120_000);
});
