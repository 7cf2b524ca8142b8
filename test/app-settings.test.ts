import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, waitFor } from "./helpers/agent-process.js";
import { freePort, PRIVATE_KEY } from "./helpers/app-server.js";
import { startFakeGitHub, type FakeGitHub } from "./helpers/fake-github.js";
import { labeledPayload } from "./helpers/payloads.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

/** What a shell that has run nothing but `cd` into the app's directory holds. */
const bareShell = () => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" });

/** `npm start` (tsx src/app/main.ts) in `cwd`, with only `env` from the shell. */
function startApp(cwd: string, env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(join(REPO_ROOT, "node_modules/.bin/tsx"), [join(REPO_ROOT, "src/app/main.ts")], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

/** A line of `.env` as Probot's setup page writes it: newlines escaped. */
const envLine = (name: string, value: string) => `${name}=${value.replace(/\n/g, "\\n")}`;

const sign = (secret: string, body: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

describe("one source of settings: .env under the shell's environment", () => {
  const redis = connectRedis();
  const prefix = randomPrefix();
  let dir: string;
  let github: FakeGitHub;
  let running: ChildProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ccc-dotenv-"));
    github = await startFakeGitHub();
  });
  afterEach(async () => {
    if (running && running.exitCode === null) {
      running.kill("SIGTERM");
      await new Promise((resolve) => running!.once("exit", resolve));
    }
  });
  afterAll(async () => {
    await github?.close();
    await rm(dir, { recursive: true, force: true });
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("the first run, with no app yet, serves Probot's setup page and writes a random CCC_API_TOKEN and CCC_TASK_SECRET to .env", async () => {
    const port = await freePort();
    const app = startApp(dir, { ...bareShell(), PORT: String(port), HOST: "127.0.0.1", REDIS_URL: process.env.REDIS_URL!, CCC_PREFIX: prefix });
    running = app.child;
    await waitFor("the setup page", async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined))?.ok, 25_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${app.output()}`);
    });
    expect(await readFile(join(dir, ".env"), "utf8")).toMatch(/^CCC_API_TOKEN=[0-9a-f]{64}\nCCC_TASK_SECRET=[0-9a-f]{64}\n$/);
    expect(app.output()).toContain("first run: wrote a random CCC_API_TOKEN");
    expect(app.output()).toContain("first run: wrote a random CCC_TASK_SECRET");
    expect(app.output()).not.toMatch(/CCC_TASK_SECRET=/);
  }, 40_000);

  it("after the setup page has written the app's credentials, a restart has a working control API, and the shell wins over .env for the app and for Probot", async () => {
    const [filePort, shellPort] = [await freePort(), await freePort()];
    const token = /CCC_API_TOKEN=(\w+)/.exec(await readFile(join(dir, ".env"), "utf8"))![1]!;
    // What Probot's setup page appends, plus the deployment's own settings, all in .env.
    const lines = [
      envLine("APP_ID", "1"),
      envLine("PRIVATE_KEY", PRIVATE_KEY),
      envLine("WEBHOOK_SECRET", "secret-from-file"),
      envLine("PORT", String(filePort)),
      envLine("HOST", "127.0.0.1"),
      envLine("REDIS_URL", process.env.REDIS_URL!),
      envLine("CCC_PREFIX", `${prefix}-from-file`),
      envLine("GHE_HOST", github.host),
      envLine("GHE_PROTOCOL", "http"),
      envLine("NODE_ENV", "production"),
    ];
    await writeFile(join(dir, ".env"), `${await readFile(join(dir, ".env"), "utf8")}${lines.join("\n")}\n`);

    // The shell sets three of them again: its values must win.
    const app = startApp(dir, { ...bareShell(), PORT: String(shellPort), CCC_PREFIX: prefix, WEBHOOK_SECRET: "secret-from-shell" });
    running = app.child;
    const base = `http://127.0.0.1:${shellPort}`;
    await waitFor("the app on the shell's PORT", async () => (await fetch(`${base}/api/v1/health`).catch(() => undefined))?.ok, 25_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}\n${app.output()}`);
      },
    );
    expect(
      await fetch(`http://127.0.0.1:${filePort}/api/v1/health`).then(
        () => "answered",
        () => "refused",
      ),
    ).toBe("refused");

    // The control API runs with the token from .env, and refuses without it.
    expect((await fetch(`${base}/api/v1/agents`)).status).toBe(401);
    expect((await fetch(`${base}/api/v1/agents`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const paused = await fetch(`${base}/api/v1/pause`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    expect(paused.status).toBe(200);
    // The app wrote under the shell's CCC_PREFIX, not the file's.
    expect(await redis.get(`${prefix}:control:state`)).toContain('"paused"');
    expect(await redis.get(`${prefix}-from-file:control:state`)).toBeNull();

    // Probot verifies webhooks with the shell's secret.
    const body = JSON.stringify(labeledPayload("claude"));
    const post = (secret: string) =>
      fetch(`${base}/api/github/webhooks`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "issues",
          "x-github-delivery": `d-${secret}`,
          "x-hub-signature-256": sign(secret, body),
        },
        body,
      });
    expect((await post("secret-from-file")).status).toBe(400);
    expect((await post("secret-from-shell")).status).toBe(200);
  }, 60_000);
});
