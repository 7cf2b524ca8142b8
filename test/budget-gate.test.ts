import { describe, expect, it } from "vitest";
import type { TaskRecord } from "../src/queue/task-record.js";
import { AgentRegistry } from "../src/store/agent-registry.js";
import { UsageStore } from "../src/store/usage-store.js";
import { waitFor } from "./helpers/agent-process.js";
import { useCluster } from "./helpers/cluster.js";
import { commentPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";
const HOUR = 3_600_000;

describe("budgets that act: CCC_BUDGETS holds an account's agents back (app and agent processes)", () => {
  // A $1 budget per 5 h for account `team`, checked every second.
  const cluster = useCluster({ env: { CCC_BUDGETS: "team=1/5h", CCC_USAGE_CHECK_SECONDS: "1", CCC_RECONCILE_SECONDS: "1" } });

  const spend = (costUsd: number, at: number) =>
    new UsageStore(cluster.redis, cluster.prefix).record({
      at,
      agent: "earlier-pc",
      account: "team",
      taskId: `${REPO}#1`,
      costUsd,
      turns: 1,
      durationMs: 1_000,
      outcome: "success",
    });
  const record = (number: number) => cluster.store.get(`${REPO}#${number}`);
  const inState = (number: number, state: TaskRecord["state"]) => async () => {
    const found = await record(number);
    return found?.state === state ? found : undefined;
  };
  const comment = (number: number, body: string) =>
    cluster.deliver("issue_comment", commentPayload(body, { number, title: `Issue ${number}`, cloneUrl: cluster.origin.url, commentId: 7000 + number }));
  const tracking = (number: number) => cluster.github.comments(REPO, number).find((c) => c.user.type === "Bot")?.body ?? "";
  const agentState = async () => (await new AgentRegistry(cluster.redis, cluster.prefix).list()).find((a) => a.name === "budget-pc");

  it("on course to overspend: only urgent and high tasks run; at the budget: none until the window rolls over; the waiting tasks say why", async () => {
    // $0.90 of $1 spent ten minutes ago: at that rate the budget runs out well within the window.
    await spend(0.9, Date.now() - HOUR / 6);
    await cluster.startAgent({ name: "budget-pc", env: { CCC_ACCOUNT: "team" } });
    await waitFor("the agent holding to urgent and high", async () => (await agentState())?.budget?.level === "tight", 20_000);

    expect((await comment(51, "/claude run priority:low")).status).toBe(200);
    expect((await comment(52, "/claude run priority:high")).status).toBe(200);
    await waitFor("the high task's PR", inState(52, "pr-open"), 60_000);
    const low = await waitFor("the low task explained", async () => {
      const found = await record(51);
      return found?.state === "queued" && found.blockedBy?.includes("only urgent and high") ? found : undefined;
    });
    expect(low.blockedBy).toContain("budget-pc: account `team` has spent $0.9");
    await waitFor("the low task's comment saying why", async () => tracking(51).includes("only urgent and high"));

    // Another $0.50, spent so long ago that it leaves the 5 h window 25 s from now: over budget until then.
    const leavesAt = Date.now() + 25_000;
    await spend(0.5, leavesAt - 5 * HOUR);
    const over = await waitFor("the agent over its budget", async () => {
      const agent = await agentState();
      return agent?.state === "over-budget" ? agent : undefined;
    });
    expect(over.budget?.until).toBeGreaterThanOrEqual(leavesAt);
    expect(over.budget?.until).toBeLessThan(leavesAt + 2_000);

    expect((await comment(53, "/claude run priority:urgent")).status).toBe(200);
    const urgent = await waitFor("the urgent task explained", async () => {
      const found = await record(53);
      return found?.state === "queued" && found.blockedBy?.includes("take no task until") ? found : undefined;
    });
    expect(urgent.blockedBy).toContain(new Date(over.budget!.until!).toISOString());
    await waitFor("the urgent task's comment saying why", async () => tracking(53).includes("take no task until"));

    // The old spending leaves the window: the account is tight again, so the urgent task runs, the low one still waits.
    const done = await waitFor("the urgent task's PR after the roll-over", inState(53, "pr-open"), 60_000);
    expect(done.startedAt!).toBeGreaterThanOrEqual(leavesAt);
    expect((await record(51))?.state).toBe("queued");
    console.info(`figure: urgent task started ${done.startedAt! - leavesAt} ms after the old spending left the budget's window`);
  }, 150_000);
});
