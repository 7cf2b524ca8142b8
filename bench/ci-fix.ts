import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../test/helpers/agent-process.js";
import { startCluster } from "../test/helpers/cluster.js";
import { tip } from "../test/helpers/git-origin.js";
import { checkRunCompletedPayload, checkSuiteCompletedPayload, labeledPayload, statusPayload } from "../test/helpers/payloads.js";
import { startBenchRedis } from "./bench-redis.js";
import { describeMachine } from "./machine.js";
import { ms, summarise } from "./stats.js";

const REPO = "octo-org/hello";
const BRANCH = "claude/issue-7-add-a-changelog-entry";
const PR = 8;
/** The settle time the bench runs with; production's default is 20 s, which adds to every figure. */
const SETTLE_SECONDS = 1;

/**
 * Red CI on the cluster's pull request, through the processes users run (`npm start`'s app and a
 * `ccc agent`, the fake GitHub, a local origin): a red commit's three events (check run, status,
 * check suite) → Claude running on the PR's branch, and the GitHub requests one CI-fix task
 * costs from the first event to its pushed fix shown on the PR. Each sample is the next attempt
 * on the same PR, red again on the fix's own commit.
 */
export async function benchCiFix(options: { samples?: number } = {}): Promise<{ name: string; lines: string[] }> {
  const samples = options.samples ?? 8;
  // The app and agent processes sign and check tasks with the key they inherit: one of the bench's own.
  process.env.CCC_TASK_SECRET ??= randomBytes(32).toString("hex");
  const redis = await startBenchRedis();
  const cluster = await startCluster({ redisUrl: redis.url, env: { CCC_CI_SETTLE_SECONDS: String(SETTLE_SECONDS) } });
  const scratch = mkdtempSync(join(tmpdir(), "ccc-bench-ci-"));
  const runLog = join(scratch, "runs.jsonl");
  const fixRuns = () =>
    existsSync(runLog)
      ? readFileSync(runLog, "utf8")
          .split("\n")
          .filter((line) => line.includes("<ci-failures"))
          .map((line) => JSON.parse(line) as { at: number })
      : [];
  try {
    const { github } = cluster;
    github.setFile(REPO, ".github/claude-cluster.yml", `ci_fix_attempts: ${samples + 1}\n`);
    github.useOrigin(REPO, cluster.origin);
    await cluster.startAgent({ name: "bench-ci", env: { FAKE_CLAUDE_RUN_LOG: runLog } });
    await cluster.deliver("issues", labeledPayload("claude", { cloneUrl: cluster.origin.url }));
    await waitFor("the issue's PR", async () => (await cluster.store.get(`${REPO}#7`))?.state === "pr-open", 60_000);

    const latencies: number[] = [];
    const requests: { reads: number; writes: number }[] = [];
    for (let i = 0; i < samples; i++) {
      const sha = (await tip(cluster.origin.dir, BRANCH))!;
      github.addCheckRun(REPO, { headSha: sha, name: "unit-tests", conclusion: "failure", output: { title: "1 failed" }, log: "FAIL a.test.ts\n" });
      github.addStatus(REPO, { sha, context: "lint", state: "failure", description: "3 problems" });
      const before = github.requests.length;
      const deliveredAt = Date.now();
      await cluster.deliver("check_run", checkRunCompletedPayload(sha, "unit-tests", "failure", { pullRequests: [PR] }));
      await cluster.deliver("status", statusPayload(sha, "lint", "failure"));
      await cluster.deliver("check_suite", checkSuiteCompletedPayload(sha, "failure", { pullRequests: [PR] }));
      const run = await waitFor("Claude on the branch", async () => fixRuns()[i], 60_000);
      latencies.push(run.at - deliveredAt);
      await waitFor(
        "the fix pushed and shown",
        async () => {
          const record = await cluster.store.get(`${REPO}#${PR}`);
          if (record?.state !== "pr-open" || record.ciFix?.attempt !== i + 1) return false;
          const events = await cluster.eventCounts();
          return events.waiting + events.delayed + events.active === 0 && (record.renderedVersion ?? 0) >= record.version;
        },
        90_000,
      );
      const made = github.requests.slice(before);
      requests.push({ reads: made.filter((r) => r.method === "GET").length, writes: made.filter((r) => r.method !== "GET").length });
    }
    const latency = summarise(latencies);
    const total = requests.map((r) => r.reads + r.writes);
    const perTask = summarise(total);
    return {
      name: "ci-fix",
      lines: [
        `machine: ${describeMachine()}; ${redis.description}; app and agent as processes, fake GitHub on loopback, CCC_CI_SETTLE_SECONDS=${SETTLE_SECONDS}`,
        `red check events (3 per commit) → Claude running on the PR branch, ${latency.count} fixes: p50 ${ms(latency.p50)}, p99 ${ms(latency.p99)}, max ${ms(latency.max)} (production adds its settle time: 20 s by default)`,
        `GitHub requests per CI-fix task (first event → fix pushed and the tracking comment drawn): p50 ${perTask.p50}, max ${perTask.max}; ` +
          `reads/writes per task: ${requests.map((r) => `${r.reads}/${r.writes}`).join(", ")}`,
      ],
    };
  } finally {
    await cluster.stop();
    await redis.stop(cluster.prefix);
    rmSync(scratch, { recursive: true, force: true });
  }
}
