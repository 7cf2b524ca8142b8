import { describe, expect, it } from "vitest";
import { AccountPauses } from "../src/store/account-pauses.js";
import { waitFor } from "./helpers/agent-process.js";
import { listBranches } from "./helpers/git-origin.js";
import { pendingEvents, waitingJobs } from "./helpers/intake.js";
import { enqueueDirect } from "./helpers/tasks.js";
import { useTestbed } from "./helpers/testbed.js";

describe("a Claude usage limit", () => {
  const bed = useTestbed();

  it("pauses every agent on that account, returns the task unspent, and an agent on another account finishes it", async () => {
    const { redis, prefix, deps, origin } = bed;
    const reset = Math.floor(Date.now() / 1000) + 3600;
    const limited = { FAKE_CLAUDE_SCENARIO: "usage-limit", FAKE_CLAUDE_RESET: String(reset) };
    await bed.startAgent({ name: "team-a-1", extraArgs: ["--account", "team-a"], env: limited });
    await bed.startAgent({ name: "team-a-2", extraArgs: ["--account", "team-a"], env: limited });
    const data = await enqueueDirect(deps, { number: 31, cloneUrl: origin.url });

    const pause = await waitFor("the account pause", () => new AccountPauses(redis, prefix).get("team-a"));
    expect(pause.until).toBe(reset * 1000);
    await waitFor("both team-a agents to show usage-limit", async () => {
      const states = (await deps.registry.list()).filter((a) => a.account === "team-a").map((a) => a.state);
      return states.length === 2 && states.every((s) => s === "usage-limit");
    });
    const record = await deps.store.get(data.taskId);
    expect(record?.state).toBe("waiting");
    expect(record?.waitingFor).toContain(`the usage limit to reset at ${new Date(reset * 1000).toISOString()}`);
    expect(record?.waitingFor).toContain("account team-a");
    const [job] = await waitingJobs(redis, prefix, "tasks-general");
    expect(job?.attemptsMade).toBe(0);

    await bed.startAgent({ name: "team-b-1", extraArgs: ["--account", "team-b"] });
    await waitFor("the other account's agent to push", async () => (await pendingEvents(redis, prefix)).some((e) => e.type === "pushed"), 30_000);
    expect(await listBranches(origin.dir)).toContain(data.branch);
    expect((await deps.store.get(data.taskId))?.agent).toBe("team-b-1");
    // The limited agents stayed out of it.
    for (const agent of await deps.registry.list()) if (agent.account === "team-a") expect(agent.state).toBe("usage-limit");
  }, 60_000);
});
