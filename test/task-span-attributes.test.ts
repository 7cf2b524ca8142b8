import type { Job } from "bullmq";
import { describe, expect, it } from "vitest";
import { actionInputsSchema, INPUT_NAMES } from "../action/src/inputs.js";
import { actionTaskAttributes } from "../action/src/lib/task-spans.js";
import { taskAttributes } from "../src/agent/run-spans.js";
import type { TaskData } from "../src/queue/task-data.js";

const data = {
  taskId: "octo-org/hello#7",
  run: 2,
  specialty: "backend",
  priority: "high",
  pullRequest: { number: 31, headBranch: "claude/issue-7-x", baseBranch: "main" },
  issue: { number: 7, title: "Wombat sorbet", body: "Narwhal crumpet", url: "", author: "a" },
} as unknown as TaskData;

describe("what names a task on a span", () => {
  it("on an agent: the task, its attempt, the agent and the BullMQ job, as before the Action shared them", () => {
    const job = { attemptsMade: 1, queueName: "tasks-backend", id: "octo-org/hello#7@2" } as unknown as Job;
    expect(taskAttributes(data, job, "pc-1")).toEqual({
      "ccc.task.id": "octo-org/hello#7",
      "ccc.task.run": 2,
      "ccc.task.attempt": 2,
      "ccc.specialty": "backend",
      "ccc.priority": "high",
      "ccc.agent": "pc-1",
      "messaging.system": "bullmq",
      "messaging.destination.name": "tasks-backend",
      "messaging.message.id": "octo-org/hello#7@2",
      "ccc.pull_request": 31,
    });
  });

  it("in the Action: the task from its inputs, the runner and the workflow run; ids only", () => {
    const raw = {
      ...Object.fromEntries(INPUT_NAMES.map((name) => [name, ""])),
      "issue-number": "7",
      "github-token": "t",
      run: "2",
      "dispatch-id": "0123456789abcdef",
    };
    const job = { owner: "octo-org", repo: "hello", RUNNER_NAME: "pc-2", GITHUB_RUN_ID: "7001" } as Parameters<typeof actionTaskAttributes>[1];
    expect(actionTaskAttributes(actionInputsSchema.parse(raw), job)).toEqual({
      "ccc.task.id": "octo-org/hello#7",
      "ccc.task.run": 2,
      "ccc.specialty": "general",
      "github.issue.number": 7,
      "ccc.runner": "pc-2",
      "cicd.pipeline.run.id": "7001",
      "ccc.dispatch.id": "0123456789abcdef",
    });
  });
});
