import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskRecord } from "../src/queue/task-record.js";
import { waitFor, type AgentProcess } from "./helpers/agent-process.js";
import { runCcc } from "./helpers/ccc-cli.js";
import { AgentRegistry } from "../src/store/agent-registry.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./helpers/otlp-receiver.js";
import { labeledPayload, pullRequestCommentPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";
const CONFIG = ".github/claude-cluster.yml";
// Words no span may carry: what a user wrote in the issue, and the repository's test command.
const TITLE = "Wombat sorbet release notes";
const BODY = "Narwhal crumpet, add the line please.";
const TEST_COMMAND = "echo 'capybara tests passed'";
const PRIVATE_WORDS = ["Wombat", "sorbet", "Narwhal", "crumpet", "capybara"];

const CONSUMER = 5;
const TRACE_URL = "https://jaeger.example/trace/{traceId}";

/** Claude's runs (login probes left out), with the trace context each was given. */
function runs(log: string): Array<{ branch: string | null; traceparent: string | null }> {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { branch: string | null; prompt: string; traceparent: string | null })
    .filter((run) => !run.prompt.startsWith("Reply with the single word OK"));
}

describe("one trace per task across the app's and the agent's processes", () => {
  let receiver: OtlpReceiver;
  let dir: string;
  let cluster: Cluster;
  let agent: AgentProcess;
  let tracing: Record<string, string>;
  const setScenario = (name: string) => writeFile(join(dir, "scenario"), name);
  const runLog = () => join(dir, "runs.jsonl");

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    dir = await mkdtemp(join(tmpdir(), "ccc-tracing-agent-"));
    await setScenario("edit");
    tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: "100" };
    cluster = await startCluster({ env: { ...tracing, CCC_RECONCILE_SECONDS: "1", CCC_TRACE_URL: TRACE_URL } });
    // Pull requests are numbered after the fake's issues: keep them clear of the issues the tests label.
    cluster.github.setIssue(REPO, 900, { title: "Numbering starts above here" });
    agent = await cluster.startAgent({
      name: "traced-pc",
      env: {
        ...tracing,
        FAKE_CLAUDE_RUN_LOG: runLog(),
        FAKE_CLAUDE_SCENARIO_FILE: join(dir, "scenario"),
        FAKE_CLAUDE_RESET_FILE: join(dir, "reset"),
        CCC_USAGE_RESET_MARGIN_SECONDS: "1",
        // Malformed: named in a warning at start, its default used; the agent runs all the same.
        OTEL_BSP_MAX_QUEUE_SIZE: "plenty",
      },
    });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    await receiver?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const recordIn = (number: number, state: TaskRecord["state"]) => async () => {
    const record = await cluster.store.get(`${REPO}#${number}`);
    return record?.state === state ? record : undefined;
  };
  const label = (number: number) =>
    cluster.deliver("issues", labeledPayload("claude", { number, title: `${TITLE} ${number}`, body: BODY, cloneUrl: cluster.origin.url }));
  const named = (spans: ReceivedSpan[], name: string) => spans.filter((span) => span.name === name);

  it("label → PR: the agent's pick-up, workspace, executor run, tests and push sit in the app's trace, and Claude is given the run span's TRACEPARENT", async () => {
    cluster.github.setFile(REPO, CONFIG, `test: ${JSON.stringify(TEST_COMMAND)}\n`);
    expect((await label(31)).status).toBe(200);
    const done = await waitFor("#31's PR", recordIn(31, "pr-open"), 60_000);
    const traceId = done.traceId!;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const inTrace = () => receiver.spans().filter((span) => span.traceId === traceId);
    // Spans leave each process as they end, the task's run before the reporter's PR.
    await waitFor("the agent's and the app's spans", async () => named(inTrace(), "task run").length > 0 && named(inTrace(), "open pull request").length > 0);
    const spans = inTrace();
    const one = (name: string) => {
      const found = named(spans, name);
      expect(found, name).toHaveLength(1);
      return found[0]!;
    };

    const enqueue = one("enqueue task");
    const run = one("task run");
    expect(run).toMatchObject({ kind: CONSUMER, parentSpanId: enqueue.spanId, service: "ccc-agent" });
    expect(run.attributes).toMatchObject({ "ccc.task.id": `${REPO}#31`, "ccc.task.run": 1, "ccc.agent": "traced-pc", "ccc.task.end": "pushed" });
    const wait = one("queue wait");
    expect(wait).toMatchObject({ kind: CONSUMER, parentSpanId: enqueue.spanId, service: "ccc-agent" });
    expect(wait.attributes["ccc.queue.wait_ms"]).toBeGreaterThanOrEqual(0);
    const prepare = one("workspace prepare");
    expect(prepare.parentSpanId).toBe(run.spanId);
    expect(one("worktree").parentSpanId).toBe(prepare.spanId);
    expect(one("mirror fetch").parentSpanId).toBe(prepare.spanId);
    const executor = one("executor run");
    expect(executor.parentSpanId).toBe(run.spanId);
    expect(executor.attributes).toMatchObject({ "ccc.executor": "claude", "ccc.run.outcome": "success", "gen_ai.request.model": "default" });
    expect(executor.attributes["ccc.run.cost_usd"]).toBeGreaterThan(0);
    expect(executor.attributes["ccc.run.turns"]).toBeGreaterThan(0);
    expect(executor.attributes["gen_ai.usage.output_tokens"]).toBeGreaterThan(0);
    expect(typeof executor.attributes["gen_ai.response.model"]).toBe("string");
    const tests = one("test command");
    expect(tests.parentSpanId).toBe(run.spanId);
    expect(tests.attributes).toMatchObject({ "ccc.test.passed": true, "process.exit.code": 0 });
    expect(one("git push").parentSpanId).toBe(run.spanId);
    // The reporter's handling of the agent's push is the run's child, across the two processes.
    const pushed = named(spans, "reporter pushed");
    expect(pushed.length).toBeGreaterThan(0);
    for (const span of pushed) expect(span).toMatchObject({ parentSpanId: run.spanId, service: "ccc-app" });

    // Claude was given the executor run's context, and nothing else of the trace.
    const given = runs(runLog()).filter((r) => r.branch?.startsWith("claude/issue-31-"));
    expect(given.map((r) => r.traceparent)).toEqual([`00-${traceId}-${executor.spanId}-01`]);

    const everything = JSON.stringify(receiver.spans());
    for (const word of PRIVATE_WORDS) expect(everything).not.toContain(word);

    expect(agent.output()).toMatch(/"msg":"OpenTelemetry settings ignored: [^"]*OTEL_BSP_MAX_QUEUE_SIZE/);
    // Logs meet traces: the agent's lines inside the run carry its ids.
    const worktreeLine = agent
      .output()
      .split("\n")
      .find((line) => line.includes('"worktree ready"') && line.includes(`${REPO}#31`));
    expect(JSON.parse(worktreeLine!)).toMatchObject({ trace_id: traceId, span_id: run.spanId });
    // Where a person finds it: `ccc tasks show`, the API and its link.
    const link = `https://jaeger.example/trace/${traceId}`;
    const shown = await runCcc(cluster.prefix, ["tasks", "show", `${REPO}#31`], { CCC_TRACE_URL: TRACE_URL });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^Trace: {6}${link}$`, "m"));
    expect((await runCcc(cluster.prefix, ["tasks", "show", `${REPO}#31`])).stdout).toMatch(new RegExp(`^Trace: {6}${traceId}$`, "m"));
    const api = (await (await cluster.app.request("/api/v1/tasks/octo-org/hello/31")).json()) as { task: { traceId: string; traceUrl: string } };
    expect(api.task).toMatchObject({ traceId, traceUrl: link });
  }, 90_000);

  it("review feedback on the PR: the pull request's task links to its issue's trace, and its own run is traced through the agent", async () => {
    const issue = (await cluster.store.get(`${REPO}#31`))!;
    expect(issue.prNumber).toBeDefined();
    const response = await cluster.deliver(
      "issue_comment",
      pullRequestCommentPayload("/claude run rename the heading, please", { number: issue.prNumber!, commentId: 3131, cloneUrl: cluster.origin.url }),
    );
    expect(response.status).toBe(200);
    const prTask = `${REPO}#${issue.prNumber}`;
    const done = await waitFor(
      "the PR task's push",
      async () => {
        const found = await cluster.store.get(prTask);
        return found && found.state === "pr-open" && found.run === 1 && found.result ? found : undefined;
      },
      60_000,
    );
    const enqueue = await waitFor("the PR task's enqueue span", async () =>
      receiver.spans().find((span) => span.name === "enqueue pull request task" && span.traceId === done.traceId),
    );
    expect(enqueue.links).toEqual([expect.objectContaining({ traceId: issue.traceId, attributes: { "ccc.link": "follows-task" } })]);
    const run = await waitFor("the PR task's run on the agent", async () =>
      receiver.spans().find((span) => span.name === "task run" && span.traceId === done.traceId),
    );
    expect(run).toMatchObject({
      parentSpanId: enqueue.spanId,
      service: "ccc-agent",
      attributes: expect.objectContaining({ "ccc.pull_request": issue.prNumber }),
    });
  }, 90_000);

  it("a usage limit mid-run: the retried run after the reset stays in the task's trace, and its failure is marked", async () => {
    cluster.github.setFile(REPO, CONFIG, "");
    const resetAt = Math.ceil(Date.now() / 1000) + 3;
    await writeFile(join(dir, "reset"), String(resetAt));
    await setScenario("usage-limit");
    expect((await label(32)).status).toBe(200);
    await waitFor("#32 waiting for the reset", recordIn(32, "waiting"), 30_000);
    await setScenario("edit");
    const done = await waitFor("#32's PR after the reset", recordIn(32, "pr-open"), 60_000);

    const traceId = done.traceId!;
    const inTrace = () => receiver.spans().filter((span) => span.traceId === traceId);
    await waitFor("both runs' spans", async () => named(inTrace(), "task run").length === 2 && named(inTrace(), "executor run").length === 2);
    const executors = named(inTrace(), "executor run");
    const limited = executors.find((span) => span.attributes["ccc.run.outcome"] === "usage-limit");
    expect(limited?.status.code).toBe(2);
    expect(executors.find((span) => span.attributes["ccc.run.outcome"] === "success")?.attributes["ccc.run.resumed"]).toBe(true);
    // Each run was given its own executor span's context, both in the task's one trace.
    const given = runs(runLog())
      .filter((r) => r.branch?.startsWith("claude/issue-32-"))
      .map((r) => r.traceparent);
    expect(given).toHaveLength(2);
    expect(new Set(given)).toEqual(new Set(executors.map((span) => `00-${traceId}-${span.spanId}-01`)));
  }, 90_000);

  it("an agent killed mid-run (SIGKILL) and started again: its second pick-up of the stalled job is in the task's trace", async () => {
    // The lone agent of this test: the other one stops, so that nobody else takes the stalled job.
    expect(await agent.stop()).toBe(0);
    await setScenario("edit");
    const hold = join(dir, "release");
    const env = {
      ...tracing,
      FAKE_CLAUDE_RUN_LOG: runLog(),
      FAKE_CLAUDE_SCENARIO_FILE: join(dir, "scenario"),
      FAKE_CLAUDE_HOLD_FILE: hold,
      CCC_LOCK_SECONDS: "3",
    };
    const doomed = await cluster.startAgent({ name: "crash-pc", env });
    expect((await label(33)).status).toBe(200);
    const running = await waitFor("#33 running with Claude holding", async () => {
      const found = await cluster.store.get(`${REPO}#33`);
      return found?.state === "running" && runs(runLog()).some((r) => r.branch?.startsWith("claude/issue-33-")) ? found : undefined;
    });
    doomed.child.kill("SIGKILL");
    const registry = new AgentRegistry(cluster.redis, cluster.prefix);
    await waitFor("the killed agent's name to be free", async () => !(await registry.list()).some((a) => a.name === "crash-pc"), 30_000);
    await writeFile(hold, "");
    const again = await cluster.startAgent({ name: "crash-pc", env, workdir: doomed.workdir });
    try {
      const done = await waitFor("#33's PR after the restart", recordIn(33, "pr-open"), 60_000);
      expect(done.traceId).toBe(running.traceId);
      const inTrace = () => receiver.spans().filter((span) => span.traceId === done.traceId);
      // The killed run's own `task run` never ended, so it was never sent; its pick-up's wait was.
      const run = await waitFor("the second pick-up's run span", async () =>
        named(inTrace(), "task run").find((span) => span.attributes["ccc.task.end"] === "pushed"),
      );
      const enqueue = named(inTrace(), "enqueue task")[0]!;
      expect(run).toMatchObject({ parentSpanId: enqueue.spanId, service: "ccc-agent" });
      expect(named(inTrace(), "queue wait")).toHaveLength(2);
      // Claude's second start was given that run's executor span, in the same trace.
      const given = runs(runLog()).filter((r) => r.branch?.startsWith("claude/issue-33-"));
      expect(given).toHaveLength(2);
      for (const r of given) expect(r.traceparent).toMatch(new RegExp(`^00-${done.traceId}-[0-9a-f]{16}-01$`));
    } finally {
      await again.stop();
    }
  }, 120_000);
});
