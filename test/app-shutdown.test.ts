import { spawn } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers/agent-process.js";
import { appProcessEnv, startAppProcess } from "./helpers/app-process.js";
import { deletePrefix, randomPrefix, connectRedis } from "./helpers/redis.js";

describe("the app stopped with Ctrl-C or SIGTERM", () => {
  const prefix = randomPrefix();
  const redis = connectRedis();
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal} runs the app's own shutdown to its end (reporter, dispatcher, queues closed), exit 0`, async () => {
      const app = await startAppProcess({ prefix });
      const exited = new Promise<number | null>((resolve) => app.child.once("exit", (code) => resolve(code)));
      app.child.kill(signal);
      expect(await exited).toBe(0);
      const lines = app
        .output()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { msg: string; signal?: string });
      expect(lines.filter((l) => l.msg === "shutting down").map((l) => l.signal)).toEqual([signal]);
      expect(lines.at(-1)).toMatchObject({ msg: "stopped", signal });
      // Probot's own Ctrl-C handler (stop the server, exit at once) is not the one that ran.
      expect(app.output()).not.toContain("Stopping server");
    }, 40_000);
  }
});

describe("the app's port already taken", () => {
  it("stops the app at start with one line naming the port and PORT, exit 1", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    const prefix = randomPrefix();
    try {
      const child = spawn(join(REPO_ROOT, "node_modules/.bin/tsx"), ["src/app/main.ts"], {
        cwd: REPO_ROOT,
        env: appProcessEnv(prefix, port),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).toBe(1);
      const fatal = output
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { level: number; msg: string; err?: unknown })
        .filter((line) => line.level === 60);
      expect(fatal).toEqual([
        expect.objectContaining({
          msg: `the app could not listen on 127.0.0.1:${port}: the port is in use by another process. Stop the other process, or set PORT (and HOST) to a free one.`,
        }),
      ]);
      expect(fatal[0]).not.toHaveProperty("err");
    } finally {
      blocker.close();
    }
  }, 60_000);
});
