import { describe, expect, it } from "vitest";
import { nextWallClockTime, parseResetTime } from "../src/claude/parse-reset-time.js";

const at = (iso: string) => Date.parse(iso);

describe("parseResetTime", () => {
  it.each<[string, string, string, string | undefined]>([
    // [text, now, expected reset (ISO, UTC)]
    ["epoch seconds", "Claude AI usage limit reached|1767225600", "2025-12-31T20:00:00Z", "2026-01-01T00:00:00.000Z"],
    [
      "5pm Warsaw, before 5pm there",
      "Claude usage limit reached. Your limit will reset at 5pm (Europe/Warsaw).",
      "2026-01-10T12:00:00Z",
      "2026-01-10T16:00:00.000Z",
    ],
    [
      "5pm Warsaw, already past 5pm there → tomorrow",
      "Claude usage limit reached. Your limit will reset at 5pm (Europe/Warsaw).",
      "2026-01-10T16:30:00Z",
      "2026-01-11T16:00:00.000Z",
    ],
    ["5pm Warsaw in summer time (UTC+2)", "Your limit will reset at 5pm (Europe/Warsaw).", "2026-07-01T08:00:00Z", "2026-07-01T15:00:00.000Z"],
    ["8:20pm Singapore", "You've hit your session limit · resets 8:20pm (Asia/Singapore)", "2026-01-01T10:00:00Z", "2026-01-01T12:20:00.000Z"],
    [
      "8:20pm Singapore, after midnight UTC but past 8:20pm there",
      "You've hit your session limit · resets 8:20pm (Asia/Singapore)",
      "2026-01-01T13:00:00Z",
      "2026-01-02T12:20:00.000Z",
    ],
    ["12am means midnight", "You've hit your limit · resets 12am (America/New_York)", "2026-03-01T12:00:00Z", "2026-03-02T05:00:00.000Z"],
    ["12pm means noon", "You've hit your limit · resets 12pm (UTC)", "2026-03-01T08:00:00Z", "2026-03-01T12:00:00.000Z"],
    ["a named day", "You've hit your limit · resets Mar 15 at 12pm (Europe/London)", "2026-03-13T09:00:00Z", "2026-03-15T12:00:00.000Z"],
    [
      "a named day in January read in December → next year",
      "You've hit your weekly limit · resets Jan 2, 9am (Europe/Berlin)",
      "2025-12-30T09:00:00Z",
      "2026-01-02T08:00:00.000Z",
    ],
    [
      "API spend limit",
      "You have reached your specified API usage limits. You will regain access on 2026-04-01 at 00:00 UTC.",
      "2026-03-24T00:00:00Z",
      "2026-04-01T00:00:00.000Z",
    ],
    ["an unknown zone", "resets 5pm (Mars/Olympus_Mons)", "2026-01-01T00:00:00Z", undefined],
    ["no time at all", "Claude usage limit reached.", "2026-01-01T00:00:00Z", undefined],
  ])("%s", (_, text, now, expected) => {
    const reset = parseResetTime(text, at(now));
    expect(reset === undefined ? undefined : new Date(reset).toISOString()).toBe(expected);
  });
});

describe("nextWallClockTime", () => {
  it("crosses a DST change correctly (New York springs forward on 2026-03-08)", () => {
    const reset = nextWallClockTime({ now: at("2026-03-08T04:00:00Z"), hour: 9, minute: 0, timeZone: "America/New_York" });
    expect(new Date(reset!).toISOString()).toBe("2026-03-08T13:00:00.000Z"); // 9am EDT = UTC-4
  });

  it("never returns a time at or before now", () => {
    const now = at("2026-01-10T16:00:00Z"); // exactly 5pm in Warsaw
    expect(nextWallClockTime({ now, hour: 17, minute: 0, timeZone: "Europe/Warsaw" })).toBe(at("2026-01-11T16:00:00Z"));
  });
});
