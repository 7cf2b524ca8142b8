import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "./helpers/agent-process.js";
import { deliver, freePort } from "./helpers/app-server.js";
import { startAppProcess } from "./helpers/app-process.js";
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
    const url = `http://127.0.0.1:${await freePort()}/no-channel`;
    const prefix = randomPrefix();
    const redis = connectRedis();
    try {
      const started = startAppProcess({ prefix, env: { WEBHOOK_PROXY_URL: url } });
      await expect(started).rejects.toThrow(`WEBHOOK_PROXY_URL=${url} could not be reached (`);
      await expect(started).rejects.toThrow("make one at https://smee.io/new");
    } finally {
      await deletePrefix(redis, prefix);
      await redis.quit();
    }
  });
});
