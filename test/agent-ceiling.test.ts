import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "./helpers/agent-process.js";
import { heartbeatAfter, pendingEvents, waitingJobs } from "./helpers/intake.js";
import { enqueueDirect } from "./helpers/tasks.js";
import { useTestbed } from "./helpers/testbed.js";

/** The agent's owner decides on the PC what any repository's tasks may do there. */
describe("the agent owner's ceiling wins over the repository's wishes", () => {
  const bed = useTestbed();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ccc-ceiling-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  // Each test starts from an empty cluster.
  afterEach(() => bed.stopAgents());

  /** Listed and past its login probe (which runs the fake CLI too, and writes its argv). */
  const idle = (name: string) => waitFor(`${name} to be idle`, async () => (await bed.deps.registry.list()).find((a) => a.name === name && a.state === "idle"));
  const pushed = (taskId: string) => async () => (await pendingEvents(bed.redis, bed.prefix)).some((e) => e.type === "pushed" && e.taskId === taskId);

  it("a task asking for bypassPermissions, Bash, WebFetch and another model runs within the agent's defaults and --models, and the record says what was capped", async () => {
    const argsFile = join(dir, "argv-defaults.json");
    // Default mode and tools; --models given, since no --models allows any model.
    await bed.startAgent({ name: "pc-2", extraArgs: ["--models", "claude-sonnet-y"], env: { FAKE_CLAUDE_ARGS_FILE: argsFile } });
    await idle("pc-2");
    const data = await enqueueDirect(bed.deps, {
      number: 31,
      cloneUrl: bed.origin.url,
      settings: { permissionMode: "bypassPermissions", allowedTools: ["Bash", "WebFetch", "Edit"], model: "claude-opus-x" },
    });
    await waitFor("the branch to be pushed", pushed(data.taskId), 30_000);

    const { argv } = JSON.parse(await readFile(argsFile, "utf8")) as { argv: string[] };
    expect(argv[argv.indexOf("--permission-mode") + 1]).toBe("acceptEdits");
    expect(argv[argv.indexOf("--allowedTools") + 1]).toBe("Edit");
    expect(argv).not.toContain("--model");
    expect(argv.join(" ")).not.toMatch(/Bash|WebFetch|claude-opus-x/);
    const record = await bed.deps.store.get(data.taskId);
    expect(record?.capped).toEqual([
      "permission mode bypassPermissions lowered to acceptEdits (the agent's --max-permission-mode)",
      "tool Bash dropped (not in the agent's --allowed-tools)",
      "tool WebFetch dropped (not in the agent's --allowed-tools)",
      "model claude-opus-x not allowed on this agent; the CLI's default model is used (--models)",
    ]);
  }, 60_000);

  it("an agent with --repos other-org never runs a task of octo-org/hello; one without --repos then takes it", async () => {
    const argsFile = join(dir, "argv-other-org.json");
    const picky = await bed.startAgent({ name: "picky", extraArgs: ["--repos", "other-org"], env: { FAKE_CLAUDE_ARGS_FILE: argsFile } });
    expect((await idle("picky")).repos).toEqual(["other-org"]);
    await rm(argsFile, { force: true });

    const data = await enqueueDirect(bed.deps, { number: 32, cloneUrl: bed.origin.url });
    await waitFor("picky to set the task aside", async () => picky.output().includes("not in this agent's --repos"));
    const setAside = Date.now();
    await waitFor("a heartbeat after that", () => heartbeatAfter(bed.deps, "picky", setAside));

    expect(existsSync(argsFile)).toBe(false);
    const record = await bed.deps.store.get(data.taskId);
    expect(record?.state).toBe("queued");
    expect(record?.agent).toBeUndefined();
    const [job] = await waitingJobs(bed.redis, bed.prefix, "tasks-general");
    expect(job?.id).toBe(`${data.taskId}@1`);
    expect(job?.attemptsMade).toBe(0);
    // Set aside once and logged once, not fetched in a tight loop.
    expect(picky.output().split("not in this agent's --repos").length - 1).toBe(1);

    await bed.startAgent({ name: "anyone" });
    // Each time the set-aside job comes due (every 5 s) both agents race for it, and picky, still
    // running, sets it aside again when it wins: a minute is a dozen draws, not a fixed wait.
    await waitFor("the branch to be pushed", pushed(data.taskId), 60_000);
    expect((await bed.deps.store.get(data.taskId))?.agent).toBe("anyone");
    expect(existsSync(argsFile)).toBe(false);
  }, 120_000);
});
