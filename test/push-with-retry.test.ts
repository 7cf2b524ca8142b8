import { describe, expect, it } from "vitest";
import { pushWithRetry } from "../src/agent/push-with-retry.js";
import { silentLogger } from "../src/shared/logger.js";
import { PushError } from "../src/workspace/errors.js";

/** A push that fails with `stderr` the first `failures` times, then succeeds. */
function flakyPush(failures: number, stderr: string) {
  const calls = { count: 0 };
  const push = async () => {
    calls.count++;
    if (calls.count <= failures) throw new PushError("claude/issue-1-x", stderr);
  };
  return { push, calls };
}

const fast = { firstDelayMs: 1, maxDelayMs: 4, log: silentLogger };
const OUTAGE = "fatal: unable to access 'https://github.com/o/r.git/': The requested URL returned error: 503";

describe("pushing finished work through an outage", () => {
  it("tries again until the remote answers", async () => {
    const { push, calls } = flakyPush(5, OUTAGE);
    const retries: string[] = [];
    await pushWithRetry(push, { ...fast, windowMs: 60_000, signal: new AbortController().signal, onRetry: async (e) => void retries.push(e.message) });
    expect(calls.count).toBe(6);
    expect(retries).toHaveLength(5);
    expect(retries[0]).toContain("503");
  });

  it.each([
    ["non-fast-forward", " ! [rejected]        HEAD -> claude/issue-1-x (non-fast-forward)\nerror: failed to push some refs"],
    ["fetch first", " ! [rejected]        HEAD -> claude/issue-1-x (fetch first)"],
    ["a protected branch", " ! [remote rejected] HEAD -> claude/issue-1-x (protected branch hook declined)"],
    ["no permission", "remote: Permission to o/r.git denied to pc-2.\nfatal: unable to access"],
  ])("gives up at once when git refuses for good: %s", async (_name, stderr) => {
    const { push, calls } = flakyPush(1, stderr);
    await expect(pushWithRetry(push, { ...fast, windowMs: 60_000, signal: new AbortController().signal })).rejects.toBeInstanceOf(PushError);
    expect(calls.count).toBe(1);
  });

  it("gives up when the window is over", async () => {
    let clock = 0;
    const { push, calls } = flakyPush(100, OUTAGE);
    const now = () => (clock += 10);
    await expect(pushWithRetry(push, { ...fast, windowMs: 50, signal: new AbortController().signal, now })).rejects.toBeInstanceOf(PushError);
    expect(calls.count).toBeLessThan(10);
  });

  it("stops when the run is aborted (cancel, stop, shutdown)", async () => {
    const controller = new AbortController();
    const { push, calls } = flakyPush(100, OUTAGE);
    await expect(
      pushWithRetry(push, { ...fast, firstDelayMs: 10_000, windowMs: 60_000, signal: controller.signal, onRetry: async () => controller.abort("cancelled") }),
    ).rejects.toBeInstanceOf(PushError);
    expect(calls.count).toBe(1);
  });

  it("does not retry errors that are not git's", async () => {
    let calls = 0;
    const push = async () => {
      calls++;
      throw new Error("worktree vanished");
    };
    await expect(pushWithRetry(push, { ...fast, windowMs: 60_000, signal: new AbortController().signal })).rejects.toThrow("worktree vanished");
    expect(calls).toBe(1);
  });
});
