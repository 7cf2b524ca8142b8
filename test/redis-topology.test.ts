import { describe, expect, it } from "vitest";
import { readRedisTopology } from "../src/config/read-redis-topology.js";
import { RedisUnavailableError, connectRedis } from "../src/shared/connect-redis.js";
import { clusterOptions, reconnectOnFailover, redisOptions } from "../src/shared/redis-options.js";
import { RedisSettingsError } from "../src/shared/redis-settings-error.js";
import { describeTopology, type RedisTopology } from "../src/shared/redis-topology.js";

describe("the Redis topology read from the environment", () => {
  it.each([
    ["nothing set: the local server", {}, { kind: "single", url: "redis://127.0.0.1:6379", tls: false }],
    ["REDIS_URL", { REDIS_URL: "redis://redis.internal:6380/2" }, { kind: "single", url: "redis://redis.internal:6380/2", tls: false }],
    [
      "rediss:// turns TLS on, with a CA file",
      { REDIS_URL: "rediss://redis.internal:6380", REDIS_TLS_CA: "/etc/ca.pem" },
      { kind: "single", url: "rediss://redis.internal:6380", tls: true, tlsCaFile: "/etc/ca.pem" },
    ],
    [
      "credentials in the URL",
      { REDIS_URL: "redis://agent:p%40ss@redis.internal:6379" },
      { kind: "single", url: "redis://agent:p%40ss@redis.internal:6379", username: "agent", password: "p@ss", tls: false },
    ],
    [
      "REDIS_USERNAME and REDIS_PASSWORD win over the URL's",
      { REDIS_URL: "redis://old:old@redis.internal:6379", REDIS_USERNAME: "ccc-agent", REDIS_PASSWORD: "new-secret" },
      { kind: "single", url: "redis://old:old@redis.internal:6379", username: "ccc-agent", password: "new-secret", tls: false },
    ],
    [
      "sentinels, with the default master group",
      { REDIS_SENTINELS: "10.0.0.1:26379, 10.0.0.2:26380,sentinel-3.internal:26379" },
      {
        kind: "sentinel",
        sentinels: [
          { host: "10.0.0.1", port: 26379 },
          { host: "10.0.0.2", port: 26380 },
          { host: "sentinel-3.internal", port: 26379 },
        ],
        name: "mymaster",
        tls: false,
      },
    ],
    [
      "sentinels with a name, passwords, an ACL user and TLS to the primary",
      {
        REDIS_SENTINELS: "[::1]:26379",
        REDIS_SENTINEL_NAME: "ccc",
        REDIS_SENTINEL_PASSWORD: "s-secret",
        REDIS_USERNAME: "ccc-app",
        REDIS_PASSWORD: "d-secret",
        REDIS_TLS_CA: "/etc/ca.pem",
      },
      {
        kind: "sentinel",
        sentinels: [{ host: "::1", port: 26379 }],
        name: "ccc",
        sentinelPassword: "s-secret",
        username: "ccc-app",
        password: "d-secret",
        tls: true,
        tlsCaFile: "/etc/ca.pem",
      },
    ],
    ["an empty REDIS_SENTINELS is unset", { REDIS_SENTINELS: " ", REDIS_URL: "redis://h:1" }, { kind: "single", url: "redis://h:1", tls: false }],
    [
      "a Redis Cluster's nodes, with and without a scheme or a port",
      { REDIS_CLUSTER_NODES: "redis://10.0.0.1:7000, 10.0.0.2:7001,redis://node-3.internal" },
      {
        kind: "cluster",
        nodes: [
          { host: "10.0.0.1", port: 7000 },
          { host: "10.0.0.2", port: 7001 },
          { host: "node-3.internal", port: 6379 },
        ],
        tls: false,
      },
    ],
    [
      "a Redis Cluster over TLS with the password in the first URL and an ACL user from the environment",
      { REDIS_CLUSTER_NODES: "rediss://:p%40ss@[::1]:7000,rediss://[::1]:7001", REDIS_USERNAME: "ccc-app", REDIS_TLS_CA: "/etc/ca.pem" },
      {
        kind: "cluster",
        nodes: [
          { host: "::1", port: 7000 },
          { host: "::1", port: 7001 },
        ],
        username: "ccc-app",
        password: "p@ss",
        tls: true,
        tlsCaFile: "/etc/ca.pem",
      },
    ],
  ])("%s", (_, env, expected) => {
    expect(readRedisTopology(env)).toEqual(expected);
  });

  it.each([
    [
      "both REDIS_URL and REDIS_SENTINELS",
      { REDIS_URL: "redis://h:6379", REDIS_SENTINELS: "h:26379" },
      /REDIS_URL and REDIS_SENTINELS are both set: unset REDIS_URL/,
    ],
    [
      "a sentinel without a port",
      { REDIS_SENTINELS: "10.0.0.1:26379,10.0.0.2" },
      /REDIS_SENTINELS is not a list of host:port \("10.0.0.2" is not one\): write it as host:port/,
    ],
    ["a sentinel port out of range", { REDIS_SENTINELS: "h:70000" }, /REDIS_SENTINELS is not a list of host:port \("h:70000"/],
    ["a URL in the sentinel list", { REDIS_SENTINELS: "redis://h:26379" }, /REDIS_SENTINELS is not a list of host:port/],
    ["an empty entry", { REDIS_SENTINELS: "h:26379,,g:26379" }, /REDIS_SENTINELS is not a list of host:port \(""/],
    [
      "a CA file without rediss://",
      { REDIS_URL: "redis://h:6379", REDIS_TLS_CA: "/ca.pem" },
      /REDIS_TLS_CA is set but REDIS_URL is redis:\/\/: write rediss:\/\//,
    ],
    ["another scheme", { REDIS_URL: "http://h:6379" }, /REDIS_URL starts with http:\/\/: use redis:\/\//],
    ["a space in the group name", { REDIS_SENTINELS: "h:26379", REDIS_SENTINEL_NAME: "my master" }, /REDIS_SENTINEL_NAME "my master" has a space/],
    [
      "both REDIS_URL and REDIS_CLUSTER_NODES",
      { REDIS_URL: "redis://h:6379", REDIS_CLUSTER_NODES: "redis://h:7000" },
      /REDIS_URL and REDIS_CLUSTER_NODES are both set: unset REDIS_URL to use the Redis Cluster/,
    ],
    [
      "both REDIS_SENTINELS and REDIS_CLUSTER_NODES",
      { REDIS_SENTINELS: "h:26379", REDIS_CLUSTER_NODES: "h:7000" },
      /REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set/,
    ],
    [
      "a node with a database",
      { REDIS_CLUSTER_NODES: "redis://h:7000/2" },
      /REDIS_CLUSTER_NODES is not a list of redis:\/\/ URLs \("redis:\/\/h:7000\/2" names a database; a Redis Cluster has only database 0\)/,
    ],
    ["a node port out of range", { REDIS_CLUSTER_NODES: "h:70000" }, /REDIS_CLUSTER_NODES is not a list of redis:\/\/ URLs \("h:70000"/],
    ["an empty node entry", { REDIS_CLUSTER_NODES: "h:7000,,g:7000" }, /REDIS_CLUSTER_NODES is not a list of redis:\/\/ URLs \(""/],
    ["nodes mixing redis:// and rediss://", { REDIS_CLUSTER_NODES: "redis://a:1,rediss://b:2" }, /REDIS_CLUSTER_NODES mixes redis:\/\/ and rediss:\/\//],
    [
      "a CA file for a cluster without TLS",
      { REDIS_CLUSTER_NODES: "redis://a:1", REDIS_TLS_CA: "/ca.pem" },
      /REDIS_TLS_CA is set but REDIS_CLUSTER_NODES are redis:\/\/: write rediss:\/\//,
    ],
  ])("%s is refused, naming the variable and the fix", (_, env, message) => {
    const error = (() => {
      try {
        readRedisTopology(env);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(RedisSettingsError);
    expect((error as RedisSettingsError).exitCode).toBe(1);
    expect((error as Error).message).toMatch(message);
  });
});

describe("the ioredis options of a topology", () => {
  it.each([
    ["one server", { kind: "single", url: "redis://redis.internal:6380/3", tls: false } as const, { host: "redis.internal", port: 6380, db: 3 }],
    [
      "one server over TLS with a user",
      { kind: "single", url: "rediss://[::1]", username: "u", password: "p", tls: true } satisfies RedisTopology,
      { host: "::1", port: 6379, username: "u", password: "p", tls: { ca: "CA" } },
    ],
    [
      "sentinels",
      { kind: "sentinel", sentinels: [{ host: "a", port: 1 }], name: "g", sentinelPassword: "sp", password: "p", tls: false } satisfies RedisTopology,
      { sentinels: [{ host: "a", port: 1 }], name: "g", sentinelPassword: "sp", password: "p" },
    ],
    [
      "sentinels with TLS to the primary only",
      { kind: "sentinel", sentinels: [{ host: "a", port: 1 }], name: "g", tls: true } satisfies RedisTopology,
      { sentinels: [{ host: "a", port: 1 }], name: "g", tls: { ca: "CA" }, enableTLSForSentinelMode: true },
    ],
  ])("%s", (_, topology, expected) => {
    const options = redisOptions(topology, { ca: "CA", connectTimeoutMs: 1234 });
    expect(options).toMatchObject({ ...expected, maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: 1234 });
    if (topology.kind === "sentinel") expect(options).not.toHaveProperty("sentinelTLS");
    if (!topology.tls) expect(options).not.toHaveProperty("tls");
  });

  it("a Redis Cluster: every node reached with the same user, password and TLS, and commands waiting through a failover", () => {
    const options = clusterOptions(
      { kind: "cluster", nodes: [{ host: "a", port: 1 }], username: "u", password: "p", tls: true },
      { ca: "CA", connectTimeoutMs: 1234 },
    );
    expect(options).toMatchObject({
      lazyConnect: true,
      slotsRefreshTimeout: 1234,
      redisOptions: { username: "u", password: "p", tls: { ca: "CA" }, maxRetriesPerRequest: null, connectTimeout: 1234 },
    });
    // CLUSTERDOWN, TRYAGAIN and a lost master are retried for a minute, not given up on.
    expect(options.maxRedirections! * options.retryDelayOnClusterDown!).toBeGreaterThanOrEqual(60_000);
    expect(options.maxRedirections! * options.retryDelayOnFailover!).toBeGreaterThanOrEqual(60_000);
    expect(options.maxRedirections! * options.retryDelayOnTryAgain!).toBeGreaterThanOrEqual(60_000);
    expect(clusterOptions({ kind: "cluster", nodes: [{ host: "a", port: 1 }], tls: false }).redisOptions).not.toHaveProperty("tls");
  });

  it("a bare URL keeps its own credentials", () => {
    expect(redisOptions({ kind: "single", url: "redis://u:p%21@h:1", tls: false })).toMatchObject({ username: "u", password: "p!" });
  });

  it("a READONLY answer (a demoted primary) or LOADING reconnects and resends; other errors do not", () => {
    expect(reconnectOnFailover(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(reconnectOnFailover(new Error("LOADING Redis is loading the dataset in memory"))).toBe(2);
    expect(reconnectOnFailover(new Error("ERR wrong number of arguments"))).toBe(false);
  });
});

describe("passwords never show", () => {
  it("in the topology's description", () => {
    const single = readRedisTopology({ REDIS_URL: "rediss://agent:url-secret@h:6380", REDIS_PASSWORD: "env-secret" });
    const sentinel = readRedisTopology({ REDIS_SENTINELS: "h:26379", REDIS_SENTINEL_PASSWORD: "s-secret", REDIS_PASSWORD: "d-secret", REDIS_USERNAME: "ccc" });
    expect(describeTopology(single)).toBe("rediss://h:6380 as agent over TLS");
    expect(describeTopology(sentinel)).toBe('sentinel master group "mymaster" via h:26379 as ccc');
  });

  it("in the error when Redis cannot be reached", async () => {
    const topology = readRedisTopology({ REDIS_URL: "redis://agent:url-secret-1234@127.0.0.1:1", REDIS_PASSWORD: "env-secret-1234" });
    const error = await connectRedis(topology, { timeoutMs: 1_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as RedisUnavailableError).userMessage).toMatch(/^Redis is not reachable at redis:\/\/127.0.0.1:1 as agent \(/);
    expect((error as RedisUnavailableError).userMessage).not.toMatch(/secret/);
  });
});

describe("a CA file that cannot be used", () => {
  const topology = readRedisTopology({ REDIS_URL: "rediss://127.0.0.1:1", REDIS_TLS_CA: "/nowhere/ca.pem" });

  it("an unreadable REDIS_TLS_CA exits 1 naming the variable and the fix", async () => {
    const error = await connectRedis(topology, { timeoutMs: 1_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisSettingsError);
    expect((error as Error).message).toBe(
      "REDIS_TLS_CA /nowhere/ca.pem cannot be read (ENOENT): set it to the path of the PEM file of the CA that signed Redis's certificate.",
    );
  });

  it("a file that holds no certificate", async () => {
    const error = await connectRedis(topology, { timeoutMs: 1_000, readFile: () => "not a certificate" }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/REDIS_TLS_CA \/nowhere\/ca.pem holds no PEM certificate/);
  });
});
