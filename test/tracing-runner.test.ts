import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import type { Redis } from "ioredis";
import { ProbotOctokit } from "probot";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { createLogger } from "../src/shared/logger.js";
import { startTracing, type Tracing } from "../src/telemetry/start-tracing.js";
import { carrierOf } from "../src/telemetry/trace-carrier.js";
import { withSpan } from "../src/telemetry/tracer.js";
import { createActionJob, type ActionJob } from "./helpers/action-job.js";
import { ACTIONS_OWNER, ACTIONS_REPO, enqueueActionsTask, runner, testDispatcher } from "./helpers/actions-tasks.js";
import { REPO_ROOT, waitFor } from "./helpers/agent-process.js";
import { startFakeGitHub, type FakeGitHub } from "./helpers/fake-github.js";
import { closeIntakeDeps, intakeDeps } from "./helpers/intake.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./helpers/otlp-receiver.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const REPO = `${ACTIONS_OWNER}/${ACTIONS_REPO}`;
const WORKFLOW = ".github/workflows/claude-agent.yml";
// Words no span may carry: what a user wrote in the issue.
const TITLE = "Wombat sorbet release notes";
const BODY = "Narwhal crumpet, add the line please.";
const PRODUCER = 4;
const CONSUMER = 5;

/** claude-agent.yml as a repository copied it before the traceparent input existed. */
const OLD_WORKFLOW = readFileSync(join(REPO_ROOT, WORKFLOW), "utf8").replace(/^ {6}traceparent:\n(?: {8}.*\n)+/gm, "");

describe("runner mode in one trace: the dispatcher's span is the Action's parent", () => {
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  let redis: Redis;
  let github: FakeGitHub;
  let prefix: string;
  let deps: IntakeDeps;
  let job: ActionJob | undefined;
  const warnings: string[] = [];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // The dispatcher runs in this process, as it runs inside the app: its spans are ccc-app's.
    tracing = await startTracing("app", createLogger({ level: "silent" }), {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "50",
    });
    redis = connectRedis();
    github = await startFakeGitHub();
    github.setRunners(REPO, [runner(1, "pc-2", ["self-hosted", "claude", "backend"])]);
  });
  afterAll(async () => {
    await tracing?.shutdown();
    await github?.close();
    await redis?.quit();
    await receiver?.close();
  });
  beforeEach(() => {
    prefix = randomPrefix();
    deps = intakeDeps(redis, prefix);
  });
  afterEach(async () => {
    await closeIntakeDeps(deps);
    await deletePrefix(redis, prefix);
    await job?.cleanup();
    job = undefined;
  });

  /** The app's enqueue span (its context in the signed job data), then one dispatcher tick against the fake GitHub. */
  async function enqueueAndDispatch(number: number) {
    github.setIssue(REPO, number, { title: TITLE, body: BODY });
    const enqueue = await withSpan("enqueue task", {}, async () => {
      const trace = carrierOf()!;
      await enqueueActionsTask(deps, { number, trace });
      return trace;
    });
    const log = createLogger({ level: "warn", format: "json", destination: { write: (line: string) => void warnings.push(line) } });
    const dispatcher = testDispatcher(deps, {
      log,
      runnerCacheSeconds: 0,
      getOctokit: async () =>
        new ProbotOctokit({ auth: { token: "ghs_test" }, baseUrl: github.baseUrl, retry: { enabled: false }, throttle: { enabled: false } }),
    });
    const { dispatched } = await dispatcher.tick();
    await dispatcher.close();
    expect(dispatched).toEqual([`${REPO}#${number}`]);
    return { traceId: enqueue.traceparent.split("-")[1]!, enqueueSpan: enqueue.traceparent.split("-")[2]! };
  }

  it("label → dispatch → Action: the Action's task run is the dispatch span's child, in the task's trace, and no span holds the issue's text", async () => {
    github.setFile(REPO, WORKFLOW, readFileSync(join(REPO_ROOT, WORKFLOW), "utf8"));
    const { traceId, enqueueSpan } = await enqueueAndDispatch(7);
    const [dispatch] = github.dispatches(REPO);
    expect(dispatch?.inputs.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    // The runner runs the workflow: the dispatch's inputs reach the Action as INPUT_ variables.
    job = await createActionJob(
      { ...dispatch!.inputs, "github-token": "ghs_jobtoken" },
      { GITHUB_API_URL: github.baseUrl, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" },
    );
    github.useOrigin(REPO, job.origin);
    const { PATH, HOME } = process.env;
    const result = await execa(process.execPath, [join(REPO_ROOT, "action/dist/index.js")], {
      env: { PATH: PATH ?? "", HOME: HOME ?? "", ...job.env },
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(await job.outputs()).toMatchObject({ conclusion: "pr-open" });

    const inTrace = () => receiver.spans().filter((span) => span.traceId === traceId);
    const named = (name: string): ReceivedSpan | undefined => inTrace().find((span) => span.name === name);
    await waitFor("the dispatcher's and the Action's spans", async () => named("dispatch workflow") && named("task run") && named("enqueue task"));
    const sent = named("dispatch workflow")!;
    expect(sent).toMatchObject({ kind: PRODUCER, parentSpanId: enqueueSpan, service: "ccc-app" });
    expect(dispatch?.inputs.traceparent).toBe(`00-${traceId}-${sent.spanId}-01`);
    expect(sent.attributes).toMatchObject({
      "ccc.task.id": `${REPO}#7`,
      "ccc.dispatch.id": dispatch?.inputs["dispatch-id"],
      "ccc.workflow": "claude-agent.yml",
    });
    const run = named("task run")!;
    expect(run).toMatchObject({ kind: CONSUMER, parentSpanId: sent.spanId, service: "ccc-action" });
    for (const name of ["executor run", "git push", "open pull request"]) expect(named(name)?.parentSpanId, name).toBe(run.spanId);
    expect(warnings).toEqual([]);

    const everything = JSON.stringify(receiver.spans());
    for (const word of ["Wombat", "sorbet", "Narwhal", "crumpet"]) expect(everything).not.toContain(word);
  }, 60_000);

  it("a workflow copied before the traceparent input: GitHub's 422 is answered by dispatching again without it, and one warning names the file", async () => {
    github.setFile(REPO, WORKFLOW, OLD_WORKFLOW);
    const before = github.dispatches(REPO).length;
    await enqueueAndDispatch(8);
    const accepted = github.dispatches(REPO).slice(before);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]?.inputs).not.toHaveProperty("traceparent");
    expect(accepted[0]?.inputs["issue-number"]).toBe("8");
    const refused = github.requests.filter((r) => r.path.endsWith("/dispatches") && r.status === 422);
    expect(refused.map((r) => "traceparent" in (r.body.inputs as object))).toEqual([true]);
    expect(warnings.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      expect.stringMatching(/\.github\/workflows\/claude-agent\.yml of octo-org\/hello does not declare the traceparent input/),
    ]);
  }, 30_000);
});
