import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHashFields } from "../src/shared/read-hash-fields.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

describe("fields of many hashes read at once", () => {
  let redis: Redis;
  const prefix = randomPrefix();

  beforeAll(() => {
    redis = connectRedis();
  });

  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it("gives each hash's fields in the order asked, null where a field or the whole hash is missing", async () => {
    await redis.hset(`${prefix}:task:a`, { state: "queued", version: "3" });
    await redis.hset(`${prefix}:task:c`, { state: "running" });
    const values = await readHashFields(redis, [`${prefix}:task:a`, `${prefix}:task:b`, `${prefix}:task:c`], ["version", "state", "agent"]);
    expect(values).toEqual([
      ["3", "queued", null],
      [null, null, null],
      [null, "running", null],
    ]);
  });

  it("reads more hashes than one call takes, keeping their order", async () => {
    const keys = Array.from({ length: 1_234 }, (_, i) => `${prefix}:many:${i}`);
    const pipeline = redis.pipeline();
    keys.forEach((key, i) => i % 7 !== 0 && pipeline.hset(key, "n", String(i)));
    await pipeline.exec();
    const values = await readHashFields(redis, keys, ["n"]);
    expect(values).toHaveLength(keys.length);
    expect(values.map(([n]) => n)).toEqual(keys.map((_, i) => (i % 7 !== 0 ? String(i) : null)));
  });

  it("reads nothing for no keys", async () => {
    expect(await readHashFields(redis, [], ["state"])).toEqual([]);
  });
});
