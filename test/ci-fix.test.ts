import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CI_WATCH_QUEUE, ciWatchJobId } from "../src/queue/ci-watch-queue.js";
import { PullRequestChecks } from "../src/store/pull-request-checks.js";
import { waitFor } from "./helpers/agent-process.js";
import { useCluster } from "./helpers/cluster.js";
import { pushCommit, tip } from "./helpers/git-origin.js";
import {
  checkRunCompletedPayload,
  checkSuiteCompletedPayload,
  closedPullRequestPayload,
  commentPayload,
  labeledPayload,
  pullRequestCommentPayload,
  statusPayload,
  synchronizePayload,
} from "./helpers/payloads.js";
import { PullRequestFates } from "../src/store/pull-request-fates.js";
import { runCcc } from "./helpers/ccc-cli.js";

const REPO = "octo-org/hello";
const BRANCH = "claude/issue-7-add-a-changelog-entry";
/** The cluster opens its PR for issue #7 as the repository's next number. */
const PR = 8;
/** A secret-shaped value a CI job printed: it must never reach Claude or GitHub. */
const LEAKED_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";

interface RunLine {
  at: number;
  branch: string | null;
  prompt: string;
}

/** A failing GitHub Actions job's raw log: runner timestamps, colour codes, group markers, a leaked token. */
const RAW_LOG = [
  "2026-12-07T10:00:00.0000000Z ##[group]Run npm test",
  "2026-12-07T10:00:00.1000000Z npm test",
  "2026-12-07T10:00:00.2000000Z ##[endgroup]",
  `2026-12-07T10:00:01.0000000Z GITHUB_TOKEN=${LEAKED_TOKEN}`,
  "2026-12-07T10:00:02.0000000Z \u001b[31mFAIL\u001b[39m test/changelog.test.ts > lists the release",
  "2026-12-07T10:00:02.1000000Z AssertionError: expected 'v1' to be 'v2'",
  "2026-12-07T10:00:03.0000000Z ##[error]Process completed with exit code 1.",
].join("\n");

describe("red CI on the cluster's pull request, through the app and a lone agent", () => {
  const cluster = useCluster({ env: { CCC_CI_SETTLE_SECONDS: "1", CCC_CONFIG_CACHE_SECONDS: "1" } });
  const scratch = mkdtempSync(join(tmpdir(), "ccc-ci-fix-"));
  const runLog = join(scratch, "runs.jsonl");
  /** Red check event → Claude running on the PR's branch, per fix. */
  const latencies: number[] = [];
  let watchQueue: Queue;
  afterAll(async () => {
    if (latencies.length > 0) console.log(`red check event → Claude started on the PR branch: ${latencies.join(", ")} ms`);
    await watchQueue?.close();
    rmSync(scratch, { recursive: true, force: true });
  });
  beforeAll(() => {
    watchQueue = new Queue(CI_WATCH_QUEUE, { connection: cluster.redis, prefix: cluster.prefix });
  });

  const runs = (): RunLine[] =>
    existsSync(runLog)
      ? readFileSync(runLog, "utf8")
          .split("\n")
          .filter((line) => line !== "")
          .map((line) => JSON.parse(line) as RunLine)
          .filter((run) => !run.prompt.startsWith("Reply with the single word OK"))
      : [];
  const fixRuns = () => runs().filter((run) => run.prompt.includes("<ci-failures"));
  const task = (number: number) => cluster.store.get(`${REPO}#${number}`);
  const botComments = (number: number) => cluster.github.comments(REPO, number).filter((c) => c.user.type === "Bot");
  const checks = () => new PullRequestChecks(cluster.redis, cluster.prefix).get("octo-org", "hello", PR);
  const head = async () => (await tip(cluster.origin.dir, BRANCH))!;
  const isAncestor = async (older: string, newer: string) =>
    (await execa("git", ["merge-base", "--is-ancestor", older, newer], { cwd: cluster.origin.dir, reject: false })).exitCode === 0;
  /** The look at `sha` is over: no job for it waits, runs or polls. */
  const watchDone = (sha: string) =>
    waitFor(
      `the look at ${sha.slice(0, 7)} to end`,
      async () => (await watchQueue.getJob(ciWatchJobId({ owner: "octo-org", repo: "hello", pr: PR, sha }))) === undefined,
      30_000,
    );
  /** Red checks on `sha`: a failing Actions job with annotations and a log, and a failing status. */
  const redChecks = (sha: string) => {
    cluster.github.addCheckRun(REPO, {
      headSha: sha,
      name: "unit-tests",
      conclusion: "failure",
      output: { title: "1 test failed", summary: "changelog.test.ts: expected 'v1' to be 'v2'" },
      annotations: [{ path: "test/changelog.test.ts", line: 12, level: "failure", message: "AssertionError: expected 'v1' to be 'v2'" }],
      log: RAW_LOG,
    });
    cluster.github.addCheckRun(REPO, { headSha: sha, name: "build", conclusion: "success" });
    cluster.github.addStatus(REPO, { sha, context: "lint", state: "failure", description: "eslint found 3 problems" });
  };
  /** The three events GitHub sends for one red commit. */
  const deliverRed = async (sha: string) => {
    for (const [event, payload] of [
      ["check_run", checkRunCompletedPayload(sha, "unit-tests", "failure", { pullRequests: [PR] })],
      ["status", statusPayload(sha, "lint", "failure")],
      ["check_suite", checkSuiteCompletedPayload(sha, "failure", { pullRequests: [PR] })],
    ] as const) {
      expect((await cluster.deliver(event, payload)).status).toBe(200);
    }
  };

  it("one red commit (three events) becomes one CI-fix run on the PR's branch, with the failures as data, and new commits on top", async () => {
    const { github } = cluster;
    github.setFile(REPO, ".github/claude-cluster.yml", "ci_fix_attempts: 2\n");
    github.useOrigin(REPO, cluster.origin);
    await cluster.startAgent({ name: "ci-agent", env: { FAKE_CLAUDE_RUN_LOG: runLog } });
    expect((await cluster.deliver("issues", labeledPayload("claude", { cloneUrl: cluster.origin.url }))).status).toBe(200);
    await waitFor("the issue's PR", async () => (await task(7))?.state === "pr-open", 40_000);
    expect(github.pulls(REPO).map((p) => p.number)).toEqual([PR]);
    const red = await head();
    expect((await task(7))?.pushedSha).toBe(red);

    redChecks(red);
    const deliveredAt = Date.now();
    await deliverRed(red);
    const line = await waitFor("Claude on the PR branch for the CI fix", async () => fixRuns()[0], 30_000);
    latencies.push(line.at - deliveredAt);

    expect(line.branch).toBe(BRANCH);
    expect(line.prompt).toContain("fixing the failing CI checks of one pull request");
    expect(line.prompt).toContain(`<ci-failures commit="${red}" attempt="1" of="2">`);
    expect(line.prompt).toContain('<check name="unit-tests" conclusion="failure">');
    expect(line.prompt).toContain('<annotation path="test/changelog.test.ts" line="12" level="failure">AssertionError');
    expect(line.prompt).toContain('<check name="lint" conclusion="failure">');
    expect(line.prompt).toContain("eslint found 3 problems");
    // The job's log: its last lines, without the runner's timestamps, colours and markers, secrets redacted.
    expect(line.prompt).toContain("<log>\nRun npm test\nnpm test\nGITHUB_TOKEN=[redacted]\nFAIL test/changelog.test.ts > lists the release");
    expect(line.prompt).not.toContain(LEAKED_TOKEN);
    expect(line.prompt).not.toMatch(/2026-12-07T10:00|##\[/);
    expect(line.prompt).not.toContain("\u001b");
    expect(line.prompt).not.toContain('<check name="build"');
    expect(line.prompt).toMatch(/<ci-failures> .*written by users or by CI jobs/);

    const ended = await waitFor(
      "the CI fix to push",
      async () => {
        const record = await task(PR);
        return record?.state === "pr-open" && record;
      },
      40_000,
    );
    expect(ended).toMatchObject({
      run: 1,
      ciFix: { attempt: 1, maxAttempts: 2, checks: ["unit-tests", "lint"] },
      pullRequest: { number: PR, headBranch: BRANCH },
    });
    // Commits on top of the red one: no force push, no second PR.
    const fixed = await head();
    expect(fixed).not.toBe(red);
    expect(await isAncestor(red, fixed)).toBe(true);
    expect(github.pulls(REPO)).toHaveLength(1);
    // The three events made one look and one task, and the red commit is not looked at again.
    await watchDone(red);
    expect(fixRuns()).toHaveLength(1);
    await cluster.waitForGitHub("the PR's tracking comment names the fix", async () =>
      botComments(PR).some((c) => c.bodies.some((body) => /Fixing CI\*\*: `unit-tests`, `lint`, attempt 1 of 2/.test(body))),
    );
    expect(botComments(PR)).toHaveLength(1);
    // The issue's own tracking comment says where its pull request stands.
    await cluster.waitForGitHub("the issue's comment names the fix", async () =>
      botComments(7).some((c) => c.bodies.some((body) => body.includes("**Pull request** CI red: `unit-tests`, `lint`; Claude is fixing it, attempt 1 of 2"))),
    );
    // `ccc tasks` says the same after the PR's link, and `/claude status` on the issue too.
    const listed = await runCcc(cluster.prefix, ["tasks"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/octo-org\/hello#7 .*\/pull\/8 \(CI (red: unit-tests, lint; Claude is fixing it, attempt 1 of 2|running)/);
    const ask = github.addComment(REPO, 7, "/claude status");
    expect((await cluster.deliver("issue_comment", commentPayload(ask.body, { commentId: ask.id, cloneUrl: cluster.origin.url }))).status).toBe(200);
    await cluster.waitForGitHub("the status reply", async () => botComments(7).find((c) => c.body.startsWith("Claude task on this issue")));
    expect(botComments(7).find((c) => c.body.startsWith("Claude task on this issue"))!.body).toMatch(
      /\(CI (red: `unit-tests`, `lint`; Claude is fixing it, attempt 1 of 2|running)/,
    );
    // Nothing the job printed reached GitHub.
    expect(github.requests.some((r) => JSON.stringify(r.body).includes(LEAKED_TOKEN))).toBe(false);
  }, 120_000);

  it("a red check event again for the same commit, or for a commit that is no longer the head, starts nothing", async () => {
    const before = fixRuns().length;
    const [oldRed] = await execa("git", ["rev-list", "--max-count=2", BRANCH], { cwd: cluster.origin.dir }).then((r) => r.stdout.split("\n").slice(1));
    await deliverRed(oldRed!);
    await watchDone(oldRed!);
    expect(fixRuns()).toHaveLength(before);
    expect((await task(PR))?.run).toBe(1);
  }, 60_000);

  it("green checks on the fix start nothing and reset the count; red on the fix is attempt 2 of 2, then the attempts run out with one comment and claude:ci-failed", async () => {
    const { github } = cluster;
    const fixed = await head();
    // Green first: the PR's CI state says so, nothing runs.
    github.addCheckRun(REPO, { headSha: fixed, name: "unit-tests", conclusion: "success" });
    await cluster.deliver("check_suite", checkSuiteCompletedPayload(fixed, "success", { pullRequests: [PR] }));
    await waitFor("the PR's checks green", async () => (await checks())?.state === "green", 30_000);
    expect(await checks()).toMatchObject({ attempts: 0, fixRuns: 1 });
    expect(fixRuns()).toHaveLength(1);
    await cluster.waitForGitHub("the issue's comment says CI is green", async () => botComments(7).at(0)?.body.includes("**Pull request** CI green"));

    // The next push of the cluster goes red twice: attempt 1 and 2 of 2 (the count started again at green).
    for (const attempt of [1, 2]) {
      const sha = await head();
      redChecks(sha);
      // The first round re-runs the green commit's checks and they fail: the latest run of a check counts.
      await deliverRed(sha);
      await waitFor(
        `CI-fix attempt ${attempt}`,
        async () => {
          const record = await task(PR);
          return record?.ciFix?.attempt === attempt && record.pullRequest && record.state === "pr-open" && (await head()) !== sha && record;
        },
        60_000,
      );
    }
    expect(fixRuns()).toHaveLength(3);
    expect(fixRuns()[2]!.prompt).toContain('attempt="2" of="2"');

    // The third red in a row: no task, one comment naming the checks and the last error, the label.
    const last = await head();
    redChecks(last);
    await deliverRed(last);
    await cluster.waitForGitHub("the give-up comment", async () => botComments(PR).find((c) => c.body.includes("Claude stopped fixing CI")));
    await cluster.waitForGitHub("the claude:ci-failed label", async () => github.labels(REPO, PR).includes("claude:ci-failed"));
    const gaveUp = botComments(PR).filter((c) => c.body.includes("Claude stopped fixing CI"));
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]!.body).toContain("`unit-tests`, `lint` still fail after 2 attempts");
    expect(gaveUp[0]!.body).toContain("test/changelog.test.ts:12: AssertionError");
    expect(gaveUp[0]!.body).toContain("/claude fix-ci");
    expect(await checks()).toMatchObject({ state: "gave-up", attempts: 2 });
    // Redelivered: still one comment, no task.
    await deliverRed(last);
    await watchDone(last);
    expect(botComments(PR).filter((c) => c.body.includes("Claude stopped fixing CI"))).toHaveLength(1);
    expect(fixRuns()).toHaveLength(3);
  }, 240_000);

  it("`/claude fix-ci` from a maintainer fixes a red commit a person pushed, starting the count again; a person's red commit alone starts nothing", async () => {
    const { github } = cluster;
    const red0 = await head();
    const human = await pushCommit(cluster.origin.dir, { branch: BRANCH, message: "A maintainer's own change", files: { "NOTES.md": "mine\n" } });
    redChecks(human);
    await deliverRed(human);
    // GitHub tells the app the branch moved: a person's commit, so the PR is no longer the cluster's alone.
    expect((await cluster.deliver("pull_request", synchronizePayload(PR, human, red0, { head: BRANCH }))).status).toBe(200);
    await waitFor("the person's commit noted", async () => (await checks())?.humanCommits === true);
    // Not a commit the cluster pushed: no look was even queued.
    expect(await watchQueue.getJob(ciWatchJobId({ owner: "octo-org", repo: "hello", pr: PR, sha: human }))).toBeUndefined();
    expect(fixRuns()).toHaveLength(3);

    const trigger = github.addComment(REPO, PR, "/claude fix-ci\nThe changelog test expects the new version.");
    const payload = pullRequestCommentPayload(trigger.body, { number: PR, commentId: trigger.id, cloneUrl: cluster.origin.url });
    expect((await cluster.deliver("issue_comment", payload)).status).toBe(200);
    const line = await waitFor("the asked-for CI fix", async () => fixRuns()[3], 30_000);
    expect(line.prompt).toContain(`<ci-failures commit="${human}" attempt="1" of="2">`);
    expect(line.prompt).toContain("<instructions>\nThe changelog test expects the new version.\n</instructions>");
    await waitFor("the asked-for fix to push", async () => (await task(PR))?.state === "pr-open" && (await head()) !== human, 40_000);
    expect(await isAncestor(human, await head())).toBe(true);
    // Claude is on it again: the give-up label is gone.
    await cluster.waitForGitHub("the claude:ci-failed label removed", async () => !github.labels(REPO, PR).includes("claude:ci-failed"));
  }, 120_000);

  it("the merged pull request's fate counts its CI-fix runs and the person's commit", async () => {
    expect((await cluster.deliver("pull_request", closedPullRequestPayload(PR, { merged: true, head: BRANCH }))).status).toBe(200);
    const fate = await waitFor("the PR's fate", async () =>
      (await new PullRequestFates(cluster.redis, cluster.prefix).list()).find((f) => f.pr === `${REPO}#${PR}`),
    );
    expect(fate).toMatchObject({ outcome: "merged", taskId: `${REPO}#7`, ciFixRuns: 4, conflictRuns: 0, humanCommits: true });
    // No more conflict looks: its base may move as it likes.
    expect((await new PullRequestChecks(cluster.redis, cluster.prefix).openPullRequests("octo-org", "hello")).has(PR)).toBe(false);
  }, 60_000);
});
