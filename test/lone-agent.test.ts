import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskRecord } from "../src/queue/task-record.js";
import { waitFor } from "./helpers/agent-process.js";
import { runCcc } from "./helpers/ccc-cli.js";
import { useCluster } from "./helpers/cluster.js";
import { closedIssuePayload, labeledPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";

/**
 * One agent and nobody else: every way a task goes back on the queue must end with that same
 * agent running it again, with nobody touching the task.
 */
describe("a lone agent takes its task again by itself", () => {
  const cluster = useCluster({ env: { CCC_RECONCILE_SECONDS: "1" } });
  let dir: string;
  const setScenario = (name: string) => writeFile(join(dir, "scenario"), name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ccc-lone-"));
    await setScenario("edit");
    await cluster.startAgent({
      name: "lone-pc",
      // Reset times come in whole seconds; a one-second margin keeps the test short.
      env: {
        FAKE_CLAUDE_SCENARIO_FILE: join(dir, "scenario"),
        FAKE_CLAUDE_RESET_FILE: join(dir, "reset"),
        FAKE_CLAUDE_DELAY_MS: "1000",
        CCC_USAGE_RESET_MARGIN_SECONDS: "1",
      },
    });
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const label = (number: number, title: string) => cluster.deliver("issues", labeledPayload("claude", { number, title, cloneUrl: cluster.origin.url }));
  const recordIn = (number: number, state: TaskRecord["state"]) => async () => {
    const record = await cluster.store.get(`${REPO}#${number}`);
    return record?.state === state ? record : undefined;
  };
  const trackingBodies = (number: number) => cluster.github.comments(REPO, number).find((c) => c.user.type === "Bot")?.bodies ?? [];
  const pullsFor = (number: number) => cluster.github.pulls(REPO).filter((p) => p.head.includes(`/issue-${number}-`));

  it("a usage limit mid-run: the same agent runs the task again after the reset plus the margin", async () => {
    // Far enough ahead that the wait outlasts the 5 s between two edits of one comment, so it
    // shows on the issue, even when a loaded machine takes several seconds to get the run there.
    const resetAt = Math.ceil(Date.now() / 1000) + 15;
    await writeFile(join(dir, "reset"), String(resetAt));
    await setScenario("usage-limit");
    expect((await label(21, "Usage limit in the middle")).status).toBe(200);

    const waiting = await waitFor("the task waiting for the usage reset", recordIn(21, "waiting"));
    expect(waiting.waitingFor).toContain(`the usage limit to reset at ${new Date(resetAt * 1000).toISOString()}`);
    await setScenario("edit");

    const done = await waitFor("the PR after the reset", recordIn(21, "pr-open"), 60_000);
    expect(done.agent).toBe("lone-pc");
    // It continued the Claude session the limit interrupted, in the worktree it kept.
    expect(done.resumed).toBe(true);
    // Not before the reset and its margin: the agent waited as told, then went on by itself.
    expect(done.startedAt!).toBeGreaterThanOrEqual(resetAt * 1000 + 1000);
    console.info(`figure: usage reset → same agent restarted the task: ${done.startedAt! - resetAt * 1000} ms (margin 1000 ms)`);
    expect(pullsFor(21)).toHaveLength(1);
    expect(trackingBodies(21).some((b) => b.includes("**Waiting**") && b.includes("usage limit"))).toBe(true);
  }, 90_000);

  it("a login that expires mid-run: once its issue is closed after a new login, the same agent takes the task within 10 s", async () => {
    await setScenario("not-logged-in");
    expect((await label(31, "Login expires in the middle")).status).toBe(200);
    await waitFor("the task waiting for a new login", recordIn(31, "waiting"));

    // With no CCC_OPS_REPO, the issue opens in the repository of the task that found out.
    const issue = await waitFor("the session-timeout issue", async () =>
      cluster.github.issues(REPO).find((i) => i.labels.includes("session-timeout") && i.state === "open"),
    );
    expect(issue.title).toBe("lone-pc: Claude session expired");
    await waitFor("the tracking comment to name the issue", async () => trackingBodies(31).at(-1)?.includes(`${REPO}#${issue.number}`));

    await setScenario("edit"); // `claude /login` on the agent's machine
    const closedAt = Date.now();
    expect((await cluster.deliver("issues", closedIssuePayload(issue.number, issue.title, issue.labels))).status).toBe(200);

    const again = await waitFor(
      "the same agent running the task",
      async () => {
        const record = await cluster.store.get(`${REPO}#31`);
        return record?.startedAt !== undefined && record.startedAt >= closedAt ? record : undefined;
      },
      10_000,
    );
    expect(again.agent).toBe("lone-pc");
    console.info(`figure: session issue closed → same agent ran the task: ${again.startedAt! - closedAt} ms`);
    await waitFor("the PR", recordIn(31, "pr-open"), 30_000);
    expect(pullsFor(31)).toHaveLength(1);
    await waitFor("the resumed note on the session issue", async () =>
      cluster.github.comments(REPO, issue.number).some((c) => c.body.includes("verified its Claude login and resumed")),
    );
  }, 90_000);

  it("an emergency stop, then a resume: the same agent runs the task again", async () => {
    await setScenario("hang");
    expect((await label(41, "Stopped in the middle")).status).toBe(200);
    // Stopped once Claude has started its session: a stop before the CLI's first line leaves
    // nothing to resume, and the run after the resume starts afresh (a loaded machine's race).
    await waitFor("the run, with Claude's session", async () => {
      const record = await recordIn(41, "running")();
      return record?.session !== undefined ? record : undefined;
    });

    const stop = await runCcc(cluster.prefix, ["stop", "--json"]);
    expect(stop.code).toBe(0);
    await waitFor("the task back on the queue", recordIn(41, "waiting"));
    await setScenario("edit");
    const resumedAt = Date.now();
    expect((await runCcc(cluster.prefix, ["resume", "--json"])).code).toBe(0);

    const done = await waitFor("the PR after the resume", recordIn(41, "pr-open"), 30_000);
    expect(done.agent).toBe("lone-pc");
    expect(done.resumed).toBe(true);
    expect(done.startedAt!).toBeGreaterThanOrEqual(resumedAt);
    expect(pullsFor(41)).toHaveLength(1);
  }, 90_000);
});
