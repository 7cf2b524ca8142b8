import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CCC_BIN, FAKE_CLAUDE } from "./helpers/agent-process.js";

function runAgent(env: Record<string, string>) {
  return spawnSync(process.execPath, [CCC_BIN, "agent", "--name", "start-check", "--workdir", "/nonexistent-ccc-workdir"], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 20_000,
  });
}

describe("ccc agent start-up checks", () => {
  it("a missing claude binary is one clear line naming the fix, not a stack trace", () => {
    const result = runAgent({ CLAUDE_BIN: "/nonexistent/claude" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("/nonexistent/claude");
    expect(result.stderr).toMatch(/CLAUDE_BIN/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("an unreachable Redis is one clear line naming REDIS_URL", () => {
    const result = runAgent({ CLAUDE_BIN: FAKE_CLAUDE, REDIS_URL: "redis://127.0.0.1:1" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Redis is not reachable at redis://127.0.0.1:1");
    expect(result.stderr).toContain("REDIS_URL");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("an invalid flag value names the flag", () => {
    const result = spawnSync(process.execPath, [CCC_BIN, "agent", "--name", "bad name!", "--concurrency", "0"], { encoding: "utf8", timeout: 20_000 });
    expect(result.status).toBe(2); // bad usage
    expect(result.stderr).toMatch(/--name is not valid/);
    expect(result.stderr).toMatch(/--concurrency is not valid/);
  });
});
