import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers/agent-process.js";
import { startCluster, type Cluster } from "./helpers/cluster.js";
import { labeledPayload } from "./helpers/payloads.js";
import { randomPrefix } from "./helpers/redis.js";
import { startTlsRedis, type TlsRedisResult } from "./helpers/redis-tls-server.js";

const REPO = "octo-org/hello";
const APP_PASSWORD = "app-password-for-this-test-only";
const AGENT_PASSWORD = "agent-password-for-this-test-only";

/** The ACL of `user` exactly as docs/operations.md gives it, for this prefix and password. */
function documentedAcl(user: "ccc-app" | "ccc-agent", prefix: string, password: string): string[] {
  const line = readFileSync(join(REPO_ROOT, "docs/operations.md"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.startsWith(`ACL SETUSER ${user} `));
  if (!line) throw new Error(`docs/operations.md gives no \`ACL SETUSER ${user} …\` line`);
  return line
    .replaceAll("ccc:", `${prefix}:`)
    .replace(/>[A-Z_]+_PASSWORD/, `>${password}`)
    .split(/\s+/)
    .slice(2);
}

describe("Redis over TLS with ACL users: rediss://, REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS_CA", () => {
  let tls: TlsRedisResult;
  let cluster: Cluster | undefined;
  const prefix = randomPrefix();
  beforeAll(async () => {
    tls = await startTlsRedis();
    if (!tls.ok) return;
    const { admin, port, caFile } = tls.redis;
    await admin.call("ACL", "SETUSER", ...documentedAcl("ccc-app", prefix, APP_PASSWORD));
    await admin.call("ACL", "SETUSER", ...documentedAcl("ccc-agent", prefix, AGENT_PASSWORD));
    cluster = await startCluster({
      prefix,
      redisEnv: { REDIS_URL: `rediss://127.0.0.1:${port}`, REDIS_USERNAME: "ccc-app", REDIS_PASSWORD: APP_PASSWORD, REDIS_TLS_CA: caFile },
    });
    await cluster.startAgent({ name: "acl-agent", env: { REDIS_USERNAME: "ccc-agent", REDIS_PASSWORD: AGENT_PASSWORD } });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
    if (tls?.ok) await tls.redis.stop();
  });

  it("the app and an agent under the documented ACLs run a task to its PR, and Redis denied them nothing", async ({ skip }) => {
    if (!tls.ok) return skip(tls.reason);
    const { admin } = tls.redis;
    const c = cluster!;
    expect((await c.deliver("issues", labeledPayload("claude", { number: 201, cloneUrl: c.origin.url }))).status).toBe(200);
    await c.waitForGitHub("the task to end pr-open", async () => (await c.store.get(`${REPO}#201`))?.state === "pr-open", `${REPO}#201`);
    expect(c.github.pulls(REPO)).toHaveLength(1);
    expect(await c.store.get(`${REPO}#201`)).toMatchObject({ agent: "acl-agent" });

    // The operators' views read every queue and record: under the app's ACL too.
    expect((await c.app.request("/metrics")).status).toBe(200);
    expect((await c.app.request("/api/v1/tasks")).status).toBe(200);
    const clients = ((await admin.call("CLIENT", "LIST")) as string).split("\n");
    expect(clients.filter((line) => / user=ccc-agent /.test(line)).length).toBeGreaterThan(0);
    expect(clients.filter((line) => / user=ccc-app /.test(line)).length).toBeGreaterThan(0);
    // Every connection of both is over TLS: the server has no plain port.
    expect(await admin.call("ACL", "LOG")).toEqual([]);
  }, 120_000);

  it("the agent ACL refuses keys outside the prefix and the admin commands", async ({ skip }) => {
    if (!tls.ok) return skip(tls.reason);
    const { Redis } = await import("ioredis");
    const agent = new Redis({ port: tls.redis.port, username: "ccc-agent", password: AGENT_PASSWORD, tls: { ca: readFileSync(tls.redis.caFile, "utf8") } });
    try {
      expect(await agent.set(`${prefix}:acl-probe`, "1")).toBe("OK");
      for (const refused of [
        () => agent.set("another-cluster:key", "1"),
        () => agent.flushall(),
        () => agent.call("CONFIG", "GET", "*"),
        () => agent.keys(`${prefix}:*`),
      ])
        await expect(refused()).rejects.toThrow(/NOPERM/);
    } finally {
      agent.disconnect();
    }
  }, 30_000);

  it("a wrong password is refused at start with a line naming REDIS_USERNAME and REDIS_PASSWORD, and no password in it", async ({ skip }) => {
    if (!tls.ok) return skip(tls.reason);
    const { connectRedis } = await import("../src/shared/connect-redis.js");
    const { readRedisTopology } = await import("../src/config/read-redis-topology.js");
    const topology = readRedisTopology({
      REDIS_URL: `rediss://127.0.0.1:${tls.redis.port}`,
      REDIS_USERNAME: "ccc-agent",
      REDIS_PASSWORD: "not-the-password-1234",
      REDIS_TLS_CA: tls.redis.caFile,
    });
    const error = (await connectRedis(topology).catch((caught: unknown) => caught)) as Error & { userMessage: string };
    expect(error.userMessage).toMatch(
      /^Redis is not reachable at rediss:\/\/127\.0\.0\.1:\d+ as ccc-agent over TLS \(WRONGPASS.*Check REDIS_USERNAME and REDIS_PASSWORD/,
    );
    expect(error.userMessage).not.toContain("not-the-password");
  }, 30_000);
});
