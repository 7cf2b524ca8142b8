import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskStore } from "../src/queue/task-store.js";
import { StoredValueError } from "../src/shared/stored-value-error.js";
import { AccountPauses } from "../src/store/account-pauses.js";
import { AgentRegistry } from "../src/store/agent-registry.js";
import { ClusterControl } from "../src/store/cluster-control.js";
import { readSessionIssue } from "../src/store/session-issues.js";
import { runCcc } from "./helpers/ccc-cli.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

// Values in Redis are read with the schema they were written by; what it rejects is loud.
describe("values read back from Redis", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  beforeAll(() => {
    redis = connectRedis();
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  async function rejection(read: () => Promise<unknown>): Promise<StoredValueError> {
    const error = await read().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoredValueError);
    return error as StoredValueError;
  }

  it("a cluster mode that is not one of running, paused, stopped is an error naming the key, not `running`", async () => {
    await redis.set(`${prefix}:control:state`, JSON.stringify({ mode: "halted", at: 1 }));
    const error = await rejection(() => new ClusterControl(redis, prefix).get());
    expect(error.code).toBe("STORED_VALUE_INVALID");
    expect(error.message).toContain(`${prefix}:control:state`);
    expect(error.message).toContain("redis-cli DEL");
  });

  it("`ccc agents` over a heartbeat it cannot read says so in one line naming the key, exit 1, no stack", async () => {
    const own = randomPrefix();
    try {
      await redis.multi().set(`${own}:agent:pc-bad`, "{not json").zadd(`${own}:agents`, Date.now(), "pc-bad").exec();
      const result = await runCcc(own, ["agents"]);
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split("\n");
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toContain(`${own}:agent:pc-bad`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await deletePrefix(redis, own);
    }
  });

  it("an account pause that is not JSON is an error, not `no pause`", async () => {
    await redis.set(`${prefix}:account-pause:team`, "{not json");
    const error = await rejection(() => new AccountPauses(redis, prefix).get("team"));
    expect(error.detail).toBe("not JSON");
  });

  it("an agent's heartbeat missing a field names the field", async () => {
    await redis.zadd(`${prefix}:agents`, 1, "pc-1");
    await redis.set(`${prefix}:agent:pc-1`, JSON.stringify({ name: "pc-1" }));
    const error = await rejection(() => new AgentRegistry(redis, prefix).list());
    expect(error.key).toBe(`${prefix}:agent:pc-1`);
    expect(error.detail).toContain("host");
  });

  it("a session-timeout issue record with a string issue number is an error", async () => {
    await redis.set(`${prefix}:session-issue:pc-1`, JSON.stringify({ owner: "o", repo: "r", number: "7", installationId: 1, open: true }));
    const error = await rejection(() => readSessionIssue(redis, prefix, "pc-1"));
    expect(error.detail).toContain("number");
  });

  it("a task record whose field is not JSON is an error naming the field", async () => {
    const store = new TaskStore(redis, prefix);
    await redis.hset(store.key("o/r#1"), { state: '"queued"', title: "{" });
    const error = await rejection(() => store.get("o/r#1"));
    expect(error.detail).toBe("field title is not JSON");
  });

  it("valid values read back as written", async () => {
    const control = new ClusterControl(redis, `${prefix}:ok`);
    const written = await control.pause("@octocat");
    expect(await control.get()).toEqual(written);
    const pauses = new AccountPauses(redis, `${prefix}:ok`);
    const pause = await pauses.pause({ account: "team", agent: "pc-1", message: "limit", resetAt: 10_000, now: 1_000 });
    expect(await pauses.get("team")).toEqual(pause);
  });
});
