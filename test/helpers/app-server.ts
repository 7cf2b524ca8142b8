import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { Probot, ProbotOctokit, Server } from "probot";
import type { IntakeDeps } from "../../src/app/intake-deps.js";
import { createApp } from "../../src/app/create-app.js";
import { silentLogger } from "../../src/shared/logger.js";

export const WEBHOOK_SECRET = "test-secret";

/** A throwaway RSA key: Probot signs its app JWTs with it; nock answers the token calls. */
export const PRIVATE_KEY = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();

/** Octokit without retries or throttling, so tests see each request once and fast. */
export const TestOctokit = ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } });

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface RunningApp {
  url: string;
  probot: Probot;
  stop(): Promise<void>;
}

/** The real Probot HTTP server with the app loaded, on a free loopback port. */
export async function startAppServer(deps: IntakeDeps): Promise<RunningApp> {
  const port = await freePort();
  let loaded: Probot | undefined;
  const server = new Server({
    Probot: Probot.defaults({ appId: 1, privateKey: PRIVATE_KEY, secret: WEBHOOK_SECRET, Octokit: TestOctokit, log: silentLogger }),
    host: "127.0.0.1",
    port,
    log: silentLogger,
  });
  await server.load(createApp(deps, (app) => (loaded = app)));
  await server.start();
  return { url: `http://127.0.0.1:${port}/api/github/webhooks`, probot: loaded!, stop: () => server.stop() };
}

/** Posts a delivery the way GitHub does: JSON body, event headers, HMAC signature. */
export async function deliver(url: string, event: string, payload: unknown, deliveryId: string = randomUUID()): Promise<Response> {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex")}`;
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": deliveryId,
      "x-hub-signature-256": signature,
    },
    body,
  });
}
