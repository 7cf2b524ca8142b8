import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CCC_BIN, REPO_ROOT } from "./helpers/agent-process.js";
import { randomPrefix, REDIS_URL } from "./helpers/redis.js";

describe("a ccc command whose reader has gone (`ccc status | head -1`)", () => {
  it("finishes quietly with its own exit code instead of a stack trace", async () => {
    const child = spawn(process.execPath, [CCC_BIN, "status"], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL, CCC_PREFIX: randomPrefix(), LOG_LEVEL: "silent" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // The reader leaves before the command has written anything: it writes after reading Redis.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  }, 30_000);
});
