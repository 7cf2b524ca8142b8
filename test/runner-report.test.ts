import { describe, expect, it } from "vitest";
import { readRunnerReport, runnerReportLine, untilReset, type RunnerReport } from "../src/claude/runner-report.js";

const REPORT: RunnerReport = {
  taskId: "octo-org/hello#7",
  run: 2,
  runner: "pc-2",
  account: "team --> <b>max</b>",
  usage: { costUsd: 0.5, turns: 4, durationMs: 9_000, outcome: "success" },
  resetAt: 1_767_225_600_000,
};

describe("the runner's hidden report in the tracking comment", () => {
  it("round-trips inside a comment, and no text in it can end the HTML comment early", () => {
    const line = runnerReportLine(REPORT);
    expect(line).toMatch(/^<!-- claude-code-cluster:runner-report [A-Za-z0-9_-]+ -->$/);
    expect(readRunnerReport(`🏃 **Running**\n\n${line}`, REPORT.taskId, 2)).toEqual(REPORT);
  });

  it("is read only for its own task and run, and a line that does not parse or fit is ignored", () => {
    const line = runnerReportLine(REPORT);
    expect(readRunnerReport(line, REPORT.taskId, 1)).toBeUndefined();
    expect(readRunnerReport(line, "octo-org/hello#8", 2)).toBeUndefined();
    const forged = `<!-- claude-code-cluster:runner-report ${Buffer.from("{not json").toString("base64url")} -->`;
    const negative = runnerReportLine({ ...REPORT, usage: { ...REPORT.usage!, costUsd: -5 } });
    expect(readRunnerReport(`${forged}\n${negative}`, REPORT.taskId, 2)).toBeUndefined();
    expect(readRunnerReport(undefined, REPORT.taskId, 2)).toBeUndefined();
  });

  it("waits until a reported reset, from now at the earliest and a week ahead at the latest", () => {
    const now = 1_000_000;
    expect(untilReset(now + 60_000, now)).toBe(60_000);
    expect(untilReset(now - 60_000, now)).toBe(0);
    expect(untilReset(now + 30 * 24 * 3_600_000, now)).toBe(7 * 24 * 3_600_000);
  });
});
