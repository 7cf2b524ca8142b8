import { describe, expect, it } from "vitest";
import { workGate, type GateInputs } from "../src/agent/work-gate.js";

const base: GateInputs = { mode: "running", session: "ok", stopping: false, running: 0, concurrency: 2 };
const NOW = 1_000_000;

describe("workGate", () => {
  it.each<[string, Partial<GateInputs>, boolean, string]>([
    ["an idle agent takes work", {}, true, "idle"],
    ["a busy agent with a free slot takes work", { running: 1 }, true, "busy"],
    ["a full agent takes no more", { running: 2 }, false, "busy"],
    ["a paused cluster takes no work", { mode: "paused" }, false, "paused"],
    ["a stopped cluster takes no work", { mode: "stopped", running: 1 }, false, "stopped"],
    ["an expired session takes no work", { session: "expired" }, false, "session-expired"],
    ["a login being checked takes no work", { session: "checking" }, false, "checking-login"],
    ["an account over its usage limit takes no work", { accountPausedUntil: NOW + 1 }, false, "usage-limit"],
    ["a usage pause that has ended no longer blocks", { accountPausedUntil: NOW - 1 }, true, "idle"],
    ["stopping wins over everything", { stopping: true, mode: "stopped", session: "expired" }, false, "stopping"],
    ["emergency stop wins over an expired session", { mode: "stopped", session: "expired" }, false, "stopped"],
    ["an expired session wins over a paused cluster", { mode: "paused", session: "expired" }, false, "session-expired"],
  ])("%s", (_name, change, canTake, state) => {
    // Open: nothing but the number of running tasks stands in the way.
    expect(workGate({ ...base, ...change }, NOW)).toEqual({ canTake, open: state === "idle" || state === "busy", state });
  });
});
