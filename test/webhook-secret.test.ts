import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers/agent-process.js";
import { freePort, PRIVATE_KEY, WEBHOOK_SECRET } from "./helpers/app-server.js";
import { useCluster } from "./helpers/cluster.js";
import { labeledPayload } from "./helpers/payloads.js";
import { randomPrefix } from "./helpers/redis.js";

/** `npm start` in `cwd` with only `env`; resolves with the exit code and everything it printed. */
function runApp(cwd: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(join(REPO_ROOT, "node_modules/.bin/tsx"), [join(REPO_ROOT, "src/app/main.ts")], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill("SIGTERM"), 25_000);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

describe("WEBHOOK_SECRET is required once the app is registered", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ccc-secret-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("with APP_ID and PRIVATE_KEY but no WEBHOOK_SECRET, the app refuses to start with one line that names the fix, exit 1", async () => {
    const { code, output } = await runApp(dir, {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/root",
      APP_ID: "1",
      PRIVATE_KEY,
      PORT: String(await freePort()),
      HOST: "127.0.0.1",
      REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
      CCC_PREFIX: randomPrefix(),
      CCC_API_TOKEN: "test-api-token-0123456789abcdef",
    });
    expect(code, output).toBe(1);
    const lines = output.trim().split("\n");
    expect(lines, output).toHaveLength(1);
    expect(lines[0]).toContain("WEBHOOK_SECRET is not set");
    expect(lines[0]).toContain("set it in .env or the shell");
  }, 40_000);
});

describe("a webhook signed with Probot's development fallback", () => {
  const cluster = useCluster();

  it("is answered 400 by an app started normally, and the delivery is not handled", async () => {
    const body = JSON.stringify(labeledPayload("claude"));
    const post = (secret: string) =>
      fetch(`${cluster.app.base}/api/github/webhooks`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "issues",
          "x-github-delivery": randomUUID(),
          "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
        },
        body,
      });
    expect((await post("development")).status).toBe(400);
    expect(await cluster.store.get("octo-org/hello#7")).toBeUndefined();
    // The same delivery with the real secret goes through: the 400 was the signature.
    expect((await post(WEBHOOK_SECRET)).status).toBe(200);
  }, 40_000);
});
