import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountPauses, usageBackoffMs } from "../src/store/account-pauses.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

describe("usage-limit backoff without a reset time", () => {
  it.each([
    [0, 60_000],
    [1, 120_000],
    [2, 240_000],
    [5, 1_920_000],
    [6, 3_600_000],
    [20, 3_600_000],
  ])("after %i earlier hits it waits %i ms", (hits, ms) => {
    expect(usageBackoffMs(hits)).toBe(ms);
  });
});

describe("AccountPauses", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  beforeAll(() => {
    redis = connectRedis();
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("a known reset time is used as is; unknown ones back off and start over after a good run", async () => {
    const pauses = new AccountPauses(redis, prefix);
    const now = 1_800_000_000_000;
    expect(await pauses.pause({ account: "a", agent: "pc-1", message: "limit", resetAt: now + 5_000, now })).toMatchObject({
      until: now + 5_000,
      guessed: false,
    });
    await pauses.clear("a");
    expect((await pauses.pause({ account: "a", agent: "pc-1", message: "429", now })).until).toBe(now + 60_000);
    expect((await pauses.pause({ account: "a", agent: "pc-2", message: "429", now })).until).toBe(now + 120_000);
    expect(await pauses.get("a")).toMatchObject({ agent: "pc-2", guessed: true });
    expect(await pauses.get("b")).toBeUndefined();
    await pauses.clear("a");
    expect(await pauses.get("a")).toBeUndefined();
    expect((await pauses.pause({ account: "a", agent: "pc-1", message: "429", now })).until).toBe(now + 60_000);
  });
});
