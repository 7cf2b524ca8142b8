import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { jobFailure } from "../action/src/runner.js";
import { AgentNameTakenError } from "../src/agent/name-claim.js";
import { WebhookProxyError } from "../src/app/webhook-proxy.js";
import { explainError } from "../src/cli/explain-error.js";
import { ConfigError } from "../src/config/env-error.js";
import { TaskSecretMissingError } from "../src/queue/task-queues.js";
import { RedisUnavailableError } from "../src/shared/connect-redis.js";
import { UserFacingError } from "../src/shared/user-facing-error.js";
import { GitError, PushError } from "../src/workspace/errors.js";

/** Every error class whose message is meant for the user, with the exit code `ccc` ends with. */
const USER_FACING: [string, UserFacingError, 1 | 2][] = [
  ["ConfigError", new ConfigError("REDIS_URL is not valid (Invalid URL): set it to the cluster's Redis."), 2],
  ["RedisUnavailableError", new RedisUnavailableError("redis://127.0.0.1:1", "connect ECONNREFUSED"), 1],
  ["TaskSecretMissingError", new TaskSecretMissingError(), 1],
  ["WebhookProxyError", new WebhookProxyError("WEBHOOK_PROXY_URL=https://smee.io/x could not be reached"), 1],
  ["AgentNameTakenError", new AgentNameTakenError("pc-2", { id: "x", host: "host-1", pid: 42, ttlMs: 30_000 }, 5_000), 1],
  ["GitError", GitError.fetchFailed("https://github.com/o/r.git", "fatal: could not read Username"), 1],
  ["PushError", new PushError("claude/issue-7", "! [rejected] non-fast-forward"), 1],
  ["a plain UserFacingError", new UserFacingError("claude binary not found at /x.", { code: "claude-missing", hint: "Install it or set CLAUDE_BIN." }), 1],
];

describe("an error meant for the user is one line at every entry point", () => {
  it.each(USER_FACING)("%s is a UserFacingError with a stable code", (_name, error) => {
    expect(error).toBeInstanceOf(UserFacingError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toMatch(/^[a-z-]+$/);
    expect(error.name).toBe(_name === "a plain UserFacingError" ? "UserFacingError" : _name);
  });

  it.each(USER_FACING)("ccc prints %s as its message, without a stack, and exits %i", (_name, error, exitCode) => {
    const explained = explainError(error);
    expect(explained).toEqual({ code: exitCode, message: `ccc: ${error.userMessage}` });
    expect(explained.message).not.toMatch(/^\s+at /m);
  });

  it.each(USER_FACING)("the Action fails the job with %s's message alone", (_name, error) => {
    expect(jobFailure(error)).toBe(error.userMessage);
  });

  it("the hint follows the message; without one the message stands alone", () => {
    expect(new UserFacingError("Redis is down.", { code: "x", hint: "Start it." }).userMessage).toBe("Redis is down. Start it.");
    expect(new UserFacingError("Redis is down.", { code: "x" }).userMessage).toBe("Redis is down.");
    expect(new RedisUnavailableError("redis://h:1", "timeout").userMessage).toMatch(
      /^Redis is not reachable at redis:\/\/h:1 \(timeout\)\. Start redis-server, or set REDIS_URL/,
    );
  });
});

describe("anything else is a bug and keeps its stack", () => {
  const bug = new TypeError("cannot read properties of undefined (reading 'x')");
  // A `code` alone no longer makes an error user-meant: Node's errors carry one too.
  const coded = Object.assign(new Error("listen EADDRINUSE: address already in use :::3000"), { code: "EADDRINUSE" });

  it.each([
    ["a TypeError", bug],
    ["an Error with a code", coded],
  ])("ccc prints %s with its stack and exits 1", (_name, error) => {
    const explained = explainError(error);
    expect(explained.code).toBe(1);
    expect(explained.message).toMatch(/^ccc: unexpected error: /);
    expect(explained.message).toMatch(/^\s+at /m);
  });

  it("the Action's failure keeps the stack", () => {
    expect(jobFailure(bug)).toMatch(/^TypeError: cannot read[\s\S]*\n\s+at /);
    expect(jobFailure("a string")).toBe("a string");
  });

  it("Commander's usage errors still exit 2 and its help and version exit 0 without a message", () => {
    expect(explainError(new CommanderError(1, "commander.unknownCommand", "error: unknown command 'x'"), "ccc --help")).toEqual({
      code: 2,
      message: "ccc: unknown command 'x'. See `ccc --help`.",
    });
    expect(explainError(new CommanderError(0, "commander.version", "1.0.0"))).toEqual({ code: 0 });
  });
});
