import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentRegistry } from "../src/store/agent-registry.js";
import { CCC_BIN, FAKE_CLAUDE, waitFor } from "./helpers/agent-process.js";
import { deletePrefix, randomPrefix, REDIS_URL } from "./helpers/redis.js";

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

describe("the agent owner's settings file, <workdir>/agent.env", () => {
  let workdir: string;
  let redis: Redis;
  const prefix = randomPrefix();
  beforeAll(async () => {
    workdir = await mkdtemp(join(tmpdir(), "ccc-agent-env-"));
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await rm(workdir, { recursive: true, force: true });
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  /** `ccc agent` with the test's environment minus what the file is to provide. */
  const shellEnv = (extra: Record<string, string> = {}) => {
    const { CCC_TASK_SECRET: _secret, CCC_REPOS: _repos, ...rest } = process.env;
    return { ...rest, REDIS_URL, CCC_PREFIX: prefix, CLAUDE_BIN: FAKE_CLAUDE, CCC_HEARTBEAT_TTL_SECONDS: "5", ...extra };
  };

  it("a bad value in the file stops the agent with exit 2 and a line naming the variable", async () => {
    await writeFile(join(workdir, "agent.env"), `CCC_TASK_SECRET=${process.env.CCC_TASK_SECRET}\nCCC_MAX_PERMISSION_MODE=everything\n`);
    const result = spawnSync(process.execPath, [CCC_BIN, "agent", "--name", "filed", "--workdir", workdir], {
      env: shellEnv(),
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/CCC_MAX_PERMISSION_MODE/);
  });

  it("the file supplies the task secret and the ceiling; the shell wins over it", async () => {
    await writeFile(join(workdir, "agent.env"), `CCC_TASK_SECRET=${process.env.CCC_TASK_SECRET}\nCCC_REPOS=from-file\nCCC_ACCOUNT=file-account\n`);
    const child = spawn(process.execPath, [CCC_BIN, "agent", "--name", "filed", "--workdir", workdir], {
      env: shellEnv({ CCC_ACCOUNT: "shell-account" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    try {
      const agent = await waitFor("the agent in the registry", async () => (await new AgentRegistry(redis, prefix).list()).find((a) => a.name === "filed"));
      expect(agent.repos).toEqual(["from-file"]);
      expect(agent.account).toBe("shell-account");
      await waitFor("the ready line", async () => output.includes("agent ready"));
      expect(output).toContain(join(workdir, "agent.env"));
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  }, 30_000);
});
