import { afterAll, describe, expect, it } from "vitest";
import { startAppProcess } from "./helpers/app-process.js";
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
