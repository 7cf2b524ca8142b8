import { describe, expect, it } from "vitest";
import { readAgentOptions } from "../src/config/agent-options.js";
import { DEFAULT_REPO_CONFIG } from "../src/config/repo-config.js";

const env = { HOME: "/home/dev", REDIS_URL: "redis://127.0.0.1:6379" };

describe("the agent owner's ceiling, from flags and environment", () => {
  it("defaults: acceptEdits, the repository config's default tools, any model, every repository", () => {
    const options = readAgentOptions({ name: "pc-2" }, env);
    expect(options.maxPermissionMode).toBe("acceptEdits");
    expect(options.allowedTools).toEqual(DEFAULT_REPO_CONFIG.allowedTools);
    expect(options.models).toBeUndefined();
    expect(options.repos).toBeUndefined();
  });

  it("flags win over variables; lists are comma-separated and trimmed", () => {
    const options = readAgentOptions(
      { name: "pc-2", maxPermissionMode: "plan", allowedTools: "Edit, Read,,Bash(git status:*)", repos: "octo-org, other/app" },
      { ...env, CCC_MAX_PERMISSION_MODE: "bypassPermissions", CCC_MODELS: "claude-sonnet-y,claude-opus-x", CCC_REPOS: "ignored" },
    );
    expect(options.maxPermissionMode).toBe("plan");
    expect(options.allowedTools).toEqual(["Edit", "Read", "Bash(git status:*)"]);
    expect(options.models).toEqual(["claude-sonnet-y", "claude-opus-x"]);
    expect(options.repos).toEqual(["octo-org", "other/app"]);
  });

  it("an empty --repos or CCC_MODELS means unset", () => {
    const options = readAgentOptions({ name: "pc-2", repos: " , " }, { ...env, CCC_MODELS: "" });
    expect(options.repos).toBeUndefined();
    expect(options.models).toBeUndefined();
  });

  it.each([
    [{ maxPermissionMode: "root" }, {}, "--max-permission-mode is not valid"],
    [{}, { CCC_MAX_PERMISSION_MODE: "root" }, "CCC_MAX_PERMISSION_MODE is not valid"],
    [{ repos: "octo/hello/extra" }, {}, "--repos is not valid: entries such as octo or octo/hello"],
    [{}, { CCC_REPOS: "a b" }, "CCC_REPOS is not valid"],
    [{ models: "claude opus" }, {}, "--models is not valid"],
    [{ allowedTools: " , " }, {}, undefined],
  ])("a wrong value names its flag or variable: %j %j", (flags, extra, message) => {
    const read = () => readAgentOptions({ name: "pc-2", ...flags }, { ...env, ...extra });
    if (message === undefined) expect(read().allowedTools).toEqual(DEFAULT_REPO_CONFIG.allowedTools);
    else expect(read).toThrow(message);
  });
});
