import { describe, expect, it } from "vitest";
import { readAgentOptions } from "../src/config/agent-options.js";
import { DEFAULT_REPO_CONFIG } from "../src/config/repo-config.js";
import { parseRepoConfig } from "../src/config/parse-repo-config.js";
import { taskSettings } from "../src/app/enqueue-task.js";

const config = (text: string) => {
  const result = parseRepoConfig(text);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
};

describe("the repository's test command and auto-merge in .github/claude-cluster.yml", () => {
  it("by default no test command runs and nothing is merged automatically", () => {
    expect(DEFAULT_REPO_CONFIG.test).toBeUndefined();
    expect(DEFAULT_REPO_CONFIG.merge).toBe("manual");
    expect(DEFAULT_REPO_CONFIG.mergeMethod).toBe("merge");
  });

  it.each([
    ["test: npm test", { command: "npm test", timeoutMinutes: 10, fixAttempts: 1 }],
    ["test: '  make check  '", { command: "make check", timeoutMinutes: 10, fixAttempts: 1 }],
    ["test: { command: npm test, timeoutMinutes: 3 }", { command: "npm test", timeoutMinutes: 3, fixAttempts: 1 }],
    ["test:\n  command: npm run test:ci\n  fixAttempts: 0", { command: "npm run test:ci", timeoutMinutes: 10, fixAttempts: 0 }],
    ["test:\n  command: make check\n  timeout_minutes: 5\n  fix_attempts: 2", { command: "make check", timeoutMinutes: 5, fixAttempts: 2 }],
  ])("%j reads as %j", (text, expected) => {
    expect(config(text).test).toEqual(expected);
  });

  it.each([
    ["test: ''", "test.command", "a command such as npm test"],
    ["test: 3", "test", "a command line such as npm test, or { command, timeoutMinutes, fixAttempts }"],
    ["test: { timeoutMinutes: 3 }", "test.command", ""],
    ["test: { command: npm test, fixAttempts: 9 }", "test.fixAttempts", ""],
    ["test: { command: npm test, timeoutMinutes: 0 }", "test.timeoutMinutes", ""],
    ["test: { command: npm test, retries: 2 }", "test", "retries"],
    ["merge: yes", "merge", ""],
    ["mergeMethod: fast-forward", "mergeMethod", ""],
  ])("%j is refused, naming %s", (text, field, message) => {
    const result = parseRepoConfig(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]!.field).toBe(field);
    expect(result.problems[0]!.message).toContain(message);
  });

  it("merge: auto carries its method into the task's signed settings; manual carries nothing", () => {
    expect(taskSettings(config("merge: auto\nmergeMethod: squash"), "general").autoMerge).toBe("squash");
    expect(taskSettings(config("merge: auto"), "general").autoMerge).toBe("merge");
    expect(taskSettings(config("merge: auto\nmerge_method: rebase"), "general").autoMerge).toBe("rebase");
    expect(taskSettings(config("mergeMethod: rebase"), "general")).not.toHaveProperty("autoMerge");
  });

  it("a test command goes into the task's settings; without one the settings have no test field at all", () => {
    expect(taskSettings(config("test: npm test"), "general").test).toEqual({ command: "npm test", timeoutMinutes: 10, fixAttempts: 1 });
    expect(taskSettings(DEFAULT_REPO_CONFIG, "general")).not.toHaveProperty("test");
  });
});

describe("the agent owner's --test-commands", () => {
  const env = { HOME: "/home/dev", REDIS_URL: "redis://127.0.0.1:6379" };

  it.each([
    [{}, {}, "allow"],
    [{ testCommands: "refuse" }, {}, "refuse"],
    [{}, { CCC_TEST_COMMANDS: "refuse" }, "refuse"],
    [{ testCommands: "allow" }, { CCC_TEST_COMMANDS: "refuse" }, "allow"],
  ])("flags %j, environment %j: %s", (flags, extra, expected) => {
    expect(readAgentOptions({ name: "pc-2", ...flags }, { ...env, ...extra }).testCommands).toBe(expected);
  });

  it("a wrong value names the flag or the variable", () => {
    expect(() => readAgentOptions({ name: "pc-2", testCommands: "maybe" }, env)).toThrow("--test-commands is not valid");
    expect(() => readAgentOptions({ name: "pc-2" }, { ...env, CCC_TEST_COMMANDS: "yes" })).toThrow("CCC_TEST_COMMANDS is not valid");
  });
});
