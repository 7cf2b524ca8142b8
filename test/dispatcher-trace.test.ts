import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import nock from "nock";
import { ProbotOctokit } from "probot";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dispatchTraced, refusedTraceparent } from "../src/dispatcher/dispatch-traced.js";
import type { TaskData } from "../src/queue/task-data.js";
import { createLogger } from "../src/shared/logger.js";
import { API } from "./helpers/github-nock.js";
import { startInMemoryTracing } from "./helpers/in-memory-tracing.js";

const TASK_TRACE = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };
const DISPATCH = "/repos/octo-org/hello/actions/workflows/claude-agent.yml/dispatches";
const TARGET = { workflow: "claude-agent.yml", ref: "main" };
const DISPATCH_ID = "0123456789abcdef";

function task(number: number, trace?: TaskData["trace"]): TaskData {
  return {
    taskId: `octo-org/hello#${number}`,
    run: 2,
    repo: { owner: "octo-org", name: "hello", cloneUrl: "", defaultBranch: "main" },
    installationId: 1,
    issue: { number, title: "Secret wombat plans", body: "Narwhal body text", url: "", author: "a" },
    comments: [],
    specialty: "backend",
    priority: "normal",
    reason: "",
    trigger: { kind: "label", actor: "a", deliveryId: "d" },
    branch: `claude/issue-${number}-t`,
    settings: { maxTurns: 1, timeoutMinutes: 1, allowedTools: [], permissionMode: "acceptEdits", draftPullRequest: false },
    createdAt: 0,
    ...(trace ? { trace } : {}),
  };
}

function deps() {
  const lines: string[] = [];
  const log = createLogger({ level: "warn", format: "json", destination: { write: (line: string) => void lines.push(line) } });
  const octokit = new ProbotOctokit({ auth: { token: "ghs_test" }, retry: { enabled: false }, throttle: { enabled: false } });
  return { deps: { octokit, log, warned: new Set<string>() }, warnings: () => lines.map((line) => JSON.parse(line) as { msg: string }) };
}

/** Every dispatch's inputs, in order; `refuse` answers GitHub's 422 to a dispatch that names an input the workflow lacks. */
function nockDispatches(options: { declared?: string[]; times: number }) {
  const sent: Record<string, string>[] = [];
  nock(API)
    .post(DISPATCH)
    .times(options.times)
    .reply((_uri, body) => {
      const inputs = (body as { inputs: Record<string, string> }).inputs;
      sent.push(inputs);
      const unexpected = Object.keys(inputs).filter((name) => options.declared && !options.declared.includes(name));
      if (unexpected.length > 0) return [422, { message: `Unexpected inputs provided: ${JSON.stringify(unexpected)}` }];
      return [204, ""];
    });
  return sent;
}

const OLD_WORKFLOW_INPUTS = ["issue-number", "task-id", "run", "specialty", "model", "max-turns", "timeout-minutes", "allowed-tools", "dispatch-id"];

describe("the dispatch span, with tracing on", () => {
  let tracing: ReturnType<typeof startInMemoryTracing>;
  beforeAll(() => {
    tracing = startInMemoryTracing();
  });
  afterEach(() => {
    tracing.reset();
    nock.cleanAll();
  });
  afterAll(async () => {
    await tracing.stop();
  });

  it("is a PRODUCER span under the task's trace with ids only, and its context goes to the workflow as traceparent", async () => {
    const sent = nockDispatches({ times: 1 });
    const { deps: d, warnings } = deps();
    await dispatchTraced(d, task(7, TASK_TRACE), TARGET, DISPATCH_ID);

    const [span] = tracing.spans();
    expect(span?.name).toBe("dispatch workflow");
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    expect(span?.spanContext().traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(span?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(span?.attributes).toEqual({
      "ccc.task.id": "octo-org/hello#7",
      "ccc.task.run": 2,
      "ccc.specialty": "backend",
      "ccc.dispatch.id": DISPATCH_ID,
      "ccc.workflow": "claude-agent.yml",
      "ccc.dispatch.traceparent_sent": true,
    });
    expect(JSON.stringify(span?.attributes)).not.toMatch(/wombat|Narwhal/i);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.traceparent).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${span?.spanContext().spanId}-01`);
    expect(sent[0]).not.toHaveProperty("tracestate");
    expect(warnings()).toEqual([]);
  });

  it("sends no traceparent for a task queued without a trace", async () => {
    const sent = nockDispatches({ times: 1 });
    await dispatchTraced(deps().deps, task(8), TARGET, DISPATCH_ID);
    expect(sent[0]).not.toHaveProperty("traceparent");
  });

  it("an old workflow without the input: dispatched again at once without it, one warning per repository, the span not an error", async () => {
    const sent = nockDispatches({ declared: OLD_WORKFLOW_INPUTS, times: 4 });
    const { deps: d, warnings } = deps();
    await dispatchTraced(d, task(9, TASK_TRACE), TARGET, DISPATCH_ID);
    await dispatchTraced(d, task(10, TASK_TRACE), TARGET, "fedcba9876543210");

    expect(sent.map((inputs) => [inputs["issue-number"], "traceparent" in inputs])).toEqual([
      ["9", true],
      ["9", false],
      ["10", true],
      ["10", false],
    ]);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]?.msg).toMatch(/\.github\/workflows\/claude-agent\.yml of octo-org\/hello does not declare the traceparent input/);
    for (const span of tracing.spans()) {
      expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
      expect(span.attributes["ccc.dispatch.traceparent_sent"]).toBe(false);
    }
  });

  it("another refusal is the dispatcher's to handle, as before: not retried, the span marked ERROR", async () => {
    const sent = nockDispatches({ declared: [...OLD_WORKFLOW_INPUTS, "traceparent"], times: 1 });
    const data = { ...task(11, TASK_TRACE), settings: { ...task(11).settings, role: "Be brief." } };
    await expect(dispatchTraced(deps().deps, data, TARGET, DISPATCH_ID)).rejects.toMatchObject({ status: 422 });
    expect(sent).toHaveLength(1);
    expect(tracing.spans()[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe("the dispatch, with tracing off", () => {
  afterEach(() => nock.cleanAll());

  it("sends no traceparent even for a task queued with a trace: a workflow copied before the input keeps working", async () => {
    const sent = nockDispatches({ declared: OLD_WORKFLOW_INPUTS, times: 1 });
    const { deps: d, warnings } = deps();
    await dispatchTraced(d, task(12, TASK_TRACE), TARGET, DISPATCH_ID);
    expect(sent).toHaveLength(1);
    expect(sent[0]).not.toHaveProperty("traceparent");
    expect(warnings()).toEqual([]);
  });
});

describe("refusedTraceparent", () => {
  const error = (status: number, message: string) => Object.assign(new Error(message), { status });
  it.each([
    [422, 'Unexpected inputs provided: ["traceparent"]', true],
    [422, 'Unexpected inputs provided: ["role", "traceparent"]', true],
    [422, 'Unexpected inputs provided: ["role"]', false],
    [404, "Not Found", false],
    [500, "traceparent", false],
  ])("%i %s → %s", (status, message, expected) => {
    expect(refusedTraceparent(error(status, message))).toBe(expected);
  });
});
