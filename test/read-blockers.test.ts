import { ProbotOctokit } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dependencySummaryOf, readBlockers } from "../src/github/read-blockers.js";
import { startFakeGitHub, type FakeGitHub } from "./helpers/fake-github.js";

const REPO = "octo-org/hello";
const here = (number: number) => ({ owner: "octo-org", repo: "hello", number });
const SUMMARY = { blocked_by: 1 };

describe("readBlockers, against the fake GitHub's REST endpoints", () => {
  let github: FakeGitHub;
  let octokit: InstanceType<typeof ProbotOctokit>;
  beforeAll(async () => {
    github = await startFakeGitHub();
    octokit = new ProbotOctokit({ auth: { token: "test" }, baseUrl: github.baseUrl, retry: { enabled: false }, throttle: { enabled: false } });
  });
  afterAll(async () => {
    await github?.close();
  });
  const asked = (path: string) => github.requests.filter((r) => r.path === path).length;

  it("reads each named issue's state, spelt as GitHub spells its repository; one it cannot read is unreadable", async () => {
    github.setIssue(REPO, 2, { state: "closed" });
    github.setIssue("Other-Org/api", 3, { state: "open" });
    github.hideRepo("secret/vault");
    const named = [here(1), here(2), { owner: "Other-Org", repo: "api", number: 3 }, { owner: "secret", repo: "vault", number: 4 }];
    expect(await readBlockers(octokit, { ...here(10), named })).toEqual([
      { ref: here(1), state: "open" },
      { ref: here(2), state: "closed" },
      { ref: { owner: "Other-Org", repo: "api", number: 3 }, state: "open" },
      { ref: { owner: "secret", repo: "vault", number: 4 }, state: "unreadable" },
    ]);
    // Without a summary counting open dependencies, GitHub's list is not asked for.
    expect(asked(`/repos/${REPO}/issues/10/dependencies/blocked_by`)).toBe(0);
  });

  it("counts the issue whose close is being handled as closed without asking GitHub", async () => {
    expect(await readBlockers(octokit, { ...here(11), named: [here(20)] }, "octo-org/hello#20")).toEqual([{ ref: here(20), state: "closed" }]);
    expect(asked(`/repos/${REPO}/issues/20`)).toBe(0);
  });

  it("adds GitHub's own blocked_by list, each blocker once, in its own repository", async () => {
    github.setIssue("other-org/api", 5, { state: "open" });
    github.setIssue(REPO, 6, { state: "closed" });
    github.setIssue(REPO, 12, { blockedBy: ["other-org/api#5", `${REPO}#6`] });
    expect(await readBlockers(octokit, { ...here(12), named: [here(6)], dependencySummary: SUMMARY })).toEqual([
      { ref: { owner: "other-org", repo: "api", number: 5 }, state: "open" },
      { ref: here(6), state: "closed" },
    ]);
    expect(asked(`/repos/${REPO}/issues/6`)).toBe(0);
  });

  it("a GitHub without issue dependencies (404 on the list) has none; a 5xx is thrown for a later try", async () => {
    expect(await readBlockers(octokit, { ...here(13), named: [], dependencySummary: SUMMARY })).toEqual([]);
    github.failNext("GET", `/repos/${REPO}/issues/14/dependencies/blocked_by`, { status: 502, body: { message: "Bad Gateway" } });
    await expect(readBlockers(octokit, { ...here(14), named: [], dependencySummary: SUMMARY })).rejects.toMatchObject({ status: 502 });
  });

  it("reads GitHub's summary only where it is well formed", () => {
    expect(dependencySummaryOf({ issue_dependencies_summary: { blocked_by: 2, total_blocked_by: 3 } })).toEqual({ blocked_by: 2 });
    expect(dependencySummaryOf({})).toBeUndefined();
    expect(dependencySummaryOf({ issue_dependencies_summary: { blocked_by: "2" } })).toBeUndefined();
    expect(dependencySummaryOf(null)).toBeUndefined();
  });
});
