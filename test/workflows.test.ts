import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { dispatchIdFrom } from "../src/dispatcher/dispatch-id.js";
import { workflowInputs } from "../src/dispatcher/dispatch-workflow.js";
import { REPO_ROOT } from "./helpers/agent-process.js";

type Yaml = Record<string, any>;
const load = (path: string): Yaml => parse(readFileSync(join(REPO_ROOT, path), "utf8")) as Yaml;

const agent = load(".github/workflows/claude-agent.yml");
const ci = load(".github/workflows/ci.yml");
const action = load("action/action.yml");
const job = agent.jobs.claude;

describe("the claude-agent workflow", () => {
  it("runs only on a self-hosted runner labelled claude and the task's specialty", () => {
    expect(job["runs-on"]).toEqual(["self-hosted", "claude", "${{ inputs.specialty }}"]);
  });

  it("asks for least privilege: write to contents, issues and pull requests, nothing else", () => {
    expect(agent.permissions).toEqual({ contents: "write", issues: "write", "pull-requests": "write" });
    expect(job.permissions).toBeUndefined();
  });

  it("queues a second task on the same issue instead of cancelling the running one, and has a timeout", () => {
    expect(agent.concurrency).toEqual({ group: "claude-issue-${{ inputs.issue-number }}", "cancel-in-progress": false });
    expect(job["timeout-minutes"]).toBeGreaterThan(0);
  });

  it("is reusable: workflow_dispatch and workflow_call take the same inputs, and nothing fork-triggerable starts it", () => {
    const on = agent.on as Yaml;
    expect(Object.keys(on).sort()).toEqual(["workflow_call", "workflow_dispatch"]);
    expect(on.workflow_call.inputs).toEqual(on.workflow_dispatch.inputs);
  });

  it("declares every input the dispatcher sends, and tags run and job with the dispatch id", () => {
    const sent = workflowInputs(
      {
        taskId: "o/r#1",
        run: 1,
        repo: { owner: "o", name: "r", cloneUrl: "", defaultBranch: "main" },
        installationId: 1,
        issue: { number: 1, title: "t", body: "", url: "", author: "a" },
        comments: [],
        specialty: "backend",
        priority: "normal",
        reason: "",
        trigger: { kind: "label", actor: "a", deliveryId: "d" },
        branch: "claude/issue-1-t",
        settings: { maxTurns: 1, timeoutMinutes: 1, allowedTools: [], permissionMode: "plan", draftPullRequest: true, role: "Be brief.", model: "opus" },
        createdAt: 0,
      },
      "0123456789abcdef",
      { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
    );
    const declared = agent.on.workflow_dispatch.inputs as Yaml;
    expect(Object.keys(sent)).toEqual(expect.arrayContaining(["permission-mode", "draft-pull-request", "role", "model", "traceparent"]));
    expect(Object.keys(sent).filter((name) => !(name in declared))).toEqual([]);
    // What GitHub will name the run and the job once the expressions are filled in.
    const fill = (text: string) => text.replace(/\$\{\{ inputs\.([a-z-]+) \}\}/g, (_, name: string) => sent[name] ?? "");
    expect(dispatchIdFrom(fill(agent["run-name"]))).toBe("0123456789abcdef");
    expect(dispatchIdFrom(fill(job.name))).toBe("0123456789abcdef");
  });

  it("declares as many workflow_dispatch inputs as GitHub takes (25; 10 before December 2025)", () => {
    expect(Object.keys(agent.on.workflow_dispatch.inputs as Yaml).length).toBeLessThanOrEqual(25);
  });

  it("checks out without persisting the job's token in .git/config, where Claude could read it", () => {
    const checkout = (job.steps as Yaml[]).find((s) => String(s.uses).startsWith("actions/checkout@"))!;
    expect(checkout.with?.["persist-credentials"]).toBe(false);
  });

  it("passes the action only inputs that action.yml declares, the required ones included", () => {
    const step = (job.steps as Yaml[]).find((s) => s.id === "claude")!;
    const declared = action.inputs as Yaml;
    expect(Object.keys(step.with).filter((name) => !(name in declared))).toEqual([]);
    const required = Object.entries(declared)
      .filter(([, input]) => input.required)
      .map(([name]) => name);
    expect(required.filter((name) => !(name in step.with))).toEqual([]);
  });
});

describe("the action's metadata", () => {
  it("documents every input of action.yml, in order, in the inputs table of docs/self-hosted-runners.md", () => {
    const doc = readFileSync(join(REPO_ROOT, "docs/self-hosted-runners.md"), "utf8");
    const rows = [...doc.matchAll(/^\| `([a-z-]+)` \|/gm)].map((match) => match[1]);
    expect(rows.filter((name) => name! in (action.inputs as Yaml))).toEqual(Object.keys(action.inputs as Yaml));
  });

  it("runs dist/index.js on node24 and has the outputs the cluster reads", () => {
    expect(action.runs).toEqual({ using: "node24", main: "dist/index.js" });
    expect(Object.keys(action.outputs).sort()).toEqual(["branch", "conclusion", "cost", "pr-url", "turns"]);
  });
});

describe("the project's CI workflow", () => {
  it("tests on Node 20, 22 and 24 against a Redis service, and checks action/dist", () => {
    const test = ci.jobs.test;
    expect(test.strategy.matrix.node).toEqual([20, 22, 24]);
    expect(test.services.redis.image).toMatch(/^redis/);
    expect(test.env.REDIS_URL).toBe("redis://127.0.0.1:6379");
    const runs = (test.steps as Yaml[]).map((s) => s.run).filter(Boolean);
    expect(runs).toEqual(expect.arrayContaining(["npm ci --no-audit --no-fund", "npm test"]));
    expect((ci.jobs["action-dist"].steps as Yaml[]).map((s) => s.run)).toContain("npm run check:action");
    expect(ci.permissions).toEqual({ contents: "read" });
  });
});
