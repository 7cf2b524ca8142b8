import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controlChannel, encodeControl, parseControl, publishControl, subscribeControl, type ControlMessage } from "../src/store/control-channel.js";
import { connectRedis, randomPrefix } from "./helpers/redis.js";

const MESSAGES: ControlMessage[] = [
  { type: "cancel", taskId: "acme/app#7" },
  { type: "mode", state: { mode: "stopped", by: "@alice", at: 1_800_000_000_000 } },
  { type: "mode", state: { mode: "running", at: 0 } },
  { type: "account-paused", pause: { account: "team", until: 1_800_000_060_000, agent: "pc-1", message: "limit", guessed: true } },
  { type: "verify-login", agent: "pc-2" },
];

/** A logger that keeps what it was told. */
function recordingLog() {
  const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
  return { warnings, warn: (obj: Record<string, unknown>, msg: string) => void warnings.push({ obj, msg }) } as const;
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("control messages, parsed alone", () => {
  it.each(MESSAGES.map((m) => [m.type, m] as const))("a %s message survives encoding and parsing", (_type, message) => {
    const log = recordingLog();
    expect(parseControl(encodeControl(message), log as never)).toEqual(message);
    expect(log.warnings).toEqual([]);
  });

  it.each([
    ["not JSON", "{oops", "not JSON"],
    ["JSON null", "null", "unknown type"],
    ["an unknown type", JSON.stringify({ type: "reboot", agent: "pc-1" }), "unknown type"],
    ["a cancel without its task", JSON.stringify({ type: "cancel" }), "malformed"],
    ["a mode that does not exist", JSON.stringify({ type: "mode", state: { mode: "sleeping", at: 1 } }), "malformed"],
  ])("%s is ignored with a warning", (_name, raw, why) => {
    const log = recordingLog();
    expect(parseControl(raw, log as never)).toBeUndefined();
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]!.msg).toContain(why);
  });

  it("a sender cannot publish a malformed message", () => {
    expect(() => encodeControl({ type: "cancel" } as unknown as ControlMessage)).toThrow();
  });
});

describe("the control channel through Redis", () => {
  let redis: Redis;
  let subscriber: Redis;
  const prefix = randomPrefix();
  const log = recordingLog();
  const received: ControlMessage[] = [];

  beforeAll(async () => {
    redis = connectRedis();
    subscriber = connectRedis();
    await subscribeControl(subscriber, prefix, log as never, (message) => {
      received.push(message);
      if (message.type === "verify-login" && message.agent === "throws") throw new Error("handler broke");
    });
  });
  afterAll(async () => {
    await subscriber.quit();
    await redis.quit();
  });

  it("every kind of message reaches a subscriber as sent", async () => {
    for (const message of MESSAGES) expect(await publishControl(redis, prefix, message)).toBe(1);
    await until(() => received.length === MESSAGES.length);
    expect(received).toEqual(MESSAGES);
  });

  it("a malformed and an unknown message are logged and ignored, and the subscriber keeps listening", async () => {
    received.length = 0;
    log.warnings.length = 0;
    await redis.publish(controlChannel(prefix), JSON.stringify({ type: "cancel", taskId: 42 }));
    await redis.publish(controlChannel(prefix), JSON.stringify({ type: "self-destruct" }));
    await redis.publish(controlChannel(prefix), "not json at all");
    await publishControl(redis, prefix, { type: "verify-login", agent: "throws" });
    await publishControl(redis, prefix, { type: "cancel", taskId: "acme/app#8" });
    await until(() => received.length === 2 && log.warnings.length === 4);
    expect(received).toEqual([
      { type: "verify-login", agent: "throws" },
      { type: "cancel", taskId: "acme/app#8" },
    ]);
    expect(log.warnings.map((w) => w.msg)).toEqual([
      expect.stringContaining("malformed"),
      expect.stringContaining("unknown type"),
      expect.stringContaining("not JSON"),
      "control message failed",
    ]);
    expect(log.warnings[1]!.obj).toMatchObject({ type: "self-destruct" });
  });
});
