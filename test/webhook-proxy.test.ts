import { spawn } from "node:child_process";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, waitFor } from "./helpers/agent-process.js";
import { deliver, freePort } from "./helpers/app-server.js";
import { appProcessEnv } from "./helpers/app-process.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { startFakeSmee, type FakeSmee } from "./helpers/fake-smee.js";
import { labeledPayload } from "./helpers/payloads.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const REPO = "octo-org/hello";

describe("WEBHOOK_PROXY_URL: trying the app through a smee channel", () => {
  let smee: FakeSmee;
  let cluster: Cluster;
  beforeAll(async () => {
    smee = await startFakeSmee();
    cluster = await startCluster({ env: { WEBHOOK_PROXY_URL: smee.url } });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    await smee?.close();
  });

  it("a signed delivery posted to the channel reaches the app and queues the task", async () => {
    // smee-client's own line, through the app's logger, once its stream is open.
    const forwarding = `Forwarding ${smee.url} to ${cluster.app.base}/api/github/webhooks`;
    await waitFor("the app listening on the channel", async () => smee.listeners() > 0 && cluster.app.output().includes(forwarding));

    const response = await deliver(smee.url, "issues", labeledPayload("claude", { number: 31, title: "Through smee" }));
    expect(response.status).toBe(200);
    const record = await waitFor("the task record", () => cluster.store.get(`${REPO}#31`));
    expect(record.state).toBe("queued");
    expect(smee.received()).toBe(1);
  });

  it("stopping the app closes its connection to the channel", async () => {
    expect(await cluster.app.stop()).toBe(0);
    await waitFor("the channel without listeners", async () => smee.listeners() === 0);
  });
});

describe("WEBHOOK_PROXY_URL naming a channel that does not answer", () => {
  it("stops the app at start with one line naming the variable and the fix", async () => {
    // A port this test holds, answering 404 as smee.io does for a channel it does not know: a
    // port merely found free could be taken by another suite's server before the app dials it.
    const server = createServer((_request, response) => response.writeHead(404).end("Not Found"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/no-channel`;
    const prefix = randomPrefix();
    const redis = connectRedis();
    try {
      // The server listens (and may answer /api/v1/health) a moment before smee-client's answer
      // arrives: what a user meets is the exit, so wait for that, not for the app to be up.
      const child = spawn(join(REPO_ROOT, "node_modules/.bin/tsx"), ["src/app/main.ts"], {
        cwd: REPO_ROOT,
        env: appProcessEnv(prefix, await freePort(), { WEBHOOK_PROXY_URL: url }),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const code = await new Promise((resolve) => child.once("exit", resolve));
      expect(code).toBe(1);
      const fatal = output.split("\n").filter((line) => line.includes("could not be reached"));
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toContain(`WEBHOOK_PROXY_URL=${url} could not be reached (Non-200 status code (404))`);
      expect(fatal[0]).toContain("make one at https://smee.io/new");
      expect(output).not.toMatch(/\n\s+at /); // one line, no stack trace
    } finally {
      await deletePrefix(redis, prefix);
      await redis.quit();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("registering the app with WEBHOOK_PROXY_URL set", () => {
  it("the setup page's manifest gives GitHub the smee channel as the Webhook URL", async () => {
    // A first run writes `.env` into its working directory: give it one of its own, with app.yml.
    const dir = await mkdtemp(join(tmpdir(), "ccc-setup-"));
    await copyFile(join(REPO_ROOT, "app.yml"), join(dir, "app.yml"));
    const port = await freePort();
    // Probot's server connects to the channel in setup mode too: a local one, so no network.
    const smee = await startFakeSmee();
    const channel = smee.url;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      APP_ID: "",
      WEBHOOK_PROXY_URL: channel,
      PORT: String(port),
      HOST: "127.0.0.1",
      CCC_API_TOKEN: "test-api-token-0123456789abcdef",
    };
    const child = spawn(join(REPO_ROOT, "node_modules/.bin/tsx"), [join(REPO_ROOT, "src/app/main.ts")], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    try {
      const page = await waitFor("the setup page", () =>
        fetch(`http://127.0.0.1:${port}/probot`).then(
          (r) => (r.ok ? r.text() : undefined),
          () => undefined,
        ),
      ).catch((error: Error) => {
        throw new Error(`${error.message}; the app's output:\n${output}`);
      });
      const manifest = JSON.parse(/value='([^']*)'/.exec(page)![1]!) as { hook_attributes: { url: string }; default_events: string[] };
      expect(manifest.hook_attributes.url).toBe(channel);
      expect(manifest.default_events).toContain("issue_comment");
    } finally {
      child.kill("SIGTERM");
      await exited;
      await smee.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
