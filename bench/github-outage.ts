import { parseArgs } from "node:util";
import { waitFor } from "../test/helpers/agent-process.js";
import { startCluster } from "../test/helpers/cluster.js";
import { tip } from "../test/helpers/git-origin.js";
import { labeledPayload } from "../test/helpers/payloads.js";
import { startBenchRedis } from "./bench-redis.js";
import { describeMachine } from "./machine.js";

/**
 * A real GitHub outage with the reporter's default settings: the app and an agent as
 * processes on a fake GitHub, an issue labelled, then every GitHub call (token calls
 * included) answers 503 for `--minutes`, then GitHub recovers. Prints how long after the
 * recovery the PR opened and whether exactly one exists. Not part of `npm run bench`: it
 * takes the outage's length. `npx tsx bench/github-outage.ts [--minutes 10]`
 */
const { values } = parseArgs({ options: { minutes: { type: "string", default: "10" } } });
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error("--minutes takes a positive number, e.g. --minutes 10");

const REPO = "octo-org/hello";
const redis = await startBenchRedis();
const cluster = await startCluster({ redisUrl: redis.url });
const { github } = cluster;
const at = () => new Date().toISOString();
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
try {
  console.log(`# github-outage: ${minutes} min of 503 on every GitHub call, default reporter settings`);
  console.log(`machine: ${describeMachine()}; ${redis.description}`);
  await cluster.startAgent({ name: "outage-bench-agent" });
  const response = await cluster.deliver("issues", labeledPayload("claude", { cloneUrl: cluster.origin.url }));
  if (response.status !== 200) throw new Error(`the app answered the label with ${response.status}`);
  github.outage({ status: 503 });
  const outageStart = Date.now();
  console.log(`${at()} label delivered; outage starts`);
  await waitFor(
    "the agent's push",
    async () => (await tip(cluster.origin.dir, "claude/issue-7-add-a-changelog-entry")) && (await cluster.store.get(`${REPO}#7`))?.result,
    120_000,
  );
  console.log(`${at()} agent pushed after ${seconds(Date.now() - outageStart)} of outage`);

  await new Promise((resolve) => setTimeout(resolve, Math.max(0, outageStart + minutes * 60_000 - Date.now())));
  const refused = github.requests.filter((r) => r.status === 503);
  const pullTries = refused.filter((r) => r.method === "GET" && r.path === `/repos/${REPO}/pulls`).length;
  github.recover();
  const recovered = Date.now();
  console.log(
    `${at()} GitHub recovers after ${seconds(recovered - outageStart)}: ${refused.length} calls refused, ${pullTries} of them the pushed event's tries`,
  );

  await waitFor("the pull request", async () => github.pulls(REPO).length > 0, 300_000);
  const prAfter = Date.now() - recovered;
  const tracking = () => github.comments(REPO, 7).filter((c) => c.user.type === "Bot");
  await waitFor(
    "the tracking comment at pr-open",
    async () => tracking()[0]?.body.includes("**Pull request opened**") && github.labels(REPO, 7).includes("claude:pr-open"),
    300_000,
  );
  const reportedAfter = Date.now() - recovered;
  await waitFor(
    "the events queue to drain",
    async () => {
      const counts = await cluster.eventCounts();
      return counts.waiting + counts.delayed + counts.active === 0;
    },
    300_000,
  );
  const counts = await cluster.eventCounts();
  const record = await cluster.store.get(`${REPO}#7`);

  console.log(`recovery → PR opened: ${seconds(prAfter)}`);
  console.log(`recovery → tracking comment and label at pr-open: ${seconds(reportedAfter)}`);
  console.log(`pull requests: ${github.pulls(REPO).length} (${github.pulls(REPO).length === 1 ? "exactly one: PASS" : "MISS"})`);
  console.log(
    `tracking comments: ${tracking().length}; state labels: ${github
      .labels(REPO, 7)
      .filter((l) => l.startsWith("claude:"))
      .join(", ")}`,
  );
  console.log(`task: ${record?.state}, rendered ${record?.renderedVersion}/${record?.version}; events completed ${counts.completed}, failed ${counts.failed}`);
} finally {
  await cluster.stop();
  await redis.stop(cluster.prefix);
}
