import { describe, expect, it } from "vitest";
import { ago } from "../src/shared/ago.js";

describe("how long ago, in one short word", () => {
  it.each([
    [0, "0s ago"],
    [-5_000, "0s ago"],
    [1_499, "1s ago"],
    [119_000, "119s ago"],
    [120_000, "2m ago"],
    [90 * 60_000, "90m ago"],
    [2 * 3_600_000, "2h ago"],
    [47 * 3_600_000, "47h ago"],
    [48 * 3_600_000, "2d ago"],
    [10 * 86_400_000, "10d ago"],
  ])("%i ms is %s", (ms, text) => {
    expect(ago(ms)).toBe(text);
  });

  it("the dashboard's browser copy says the same", async () => {
    const { readFile } = await import("node:fs/promises");
    const source = await readFile(new URL("../src/api/dashboard/dashboard.js", import.meta.url), "utf8");
    const body = /function ago\(ms\) \{([\s\S]*?)\n\}/.exec(source)?.[1];
    expect(body).toBeDefined();
    const browserAgo = new Function("ms", "Date", body!) as (at: number, date: { now(): number }) => string;
    for (const ms of [0, 119_000, 120_000, 7_199_000, 7_200_000, 172_799_000, 172_800_000, 10 * 86_400_000]) {
      expect(browserAgo(1_000_000_000_000 - ms, { now: () => 1_000_000_000_000 })).toBe(ago(ms));
    }
  });
});
