import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { ACTIONS_QUEUE } from "../src/dispatcher/actions-queue.js";
import { deliver, startAppServer, type RunningApp } from "./helpers/app-server.js";
import { nockInstallationToken, nockPermission, nockRepoConfig } from "./helpers/github-nock.js";
import { closeIntakeDeps, intakeDeps, waitingJobs } from "./helpers/intake.js";
import { labeledPayload } from "./helpers/payloads.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const OWNER = "octo-org";
const REPO = "hello";

describe("queueing for self-hosted runners", () => {
  let redis: Redis;
  let prefix: string;
  let deps: IntakeDeps;
  let app: RunningApp;

  beforeAll(() => {
    redis = connectRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(async () => {
    prefix = randomPrefix();
    deps = intakeDeps(redis, prefix);
    app = await startAppServer(deps);
    nockInstallationToken();
  });
  afterEach(async () => {
    await app.stop();
    await closeIntakeDeps(deps);
    await deletePrefix(redis, prefix);
  });

  const ids = async (queue: string) => (await waitingJobs(redis, prefix, queue)).map((job) => job.id);

  it("a repository in mode: actions queues its task for the dispatcher, not for agent daemons, even with no daemon alive", async () => {
    nockRepoConfig(OWNER, REPO, "mode: actions\n");
    nockPermission(OWNER, REPO, "maintainer", "write");
    await deliver(app.url, "issues", labeledPayload("claude:backend", { number: 3 }));

    expect(await ids(ACTIONS_QUEUE)).toEqual([`${OWNER}/${REPO}#3@1`]);
    expect(await ids("tasks-backend")).toEqual([]);
    expect(await ids("tasks-general")).toEqual([]);
    expect(await deps.store.get(`${OWNER}/${REPO}#3`)).toMatchObject({ state: "queued", specialty: "backend", queue: ACTIONS_QUEUE });
  });

  it("a repository may mix modes: one specialty on runners, the rest on daemons", async () => {
    nockRepoConfig(OWNER, REPO, "actions:\n  modes:\n    backend: actions\n");
    nockPermission(OWNER, REPO, "maintainer", "write");
    await deliver(app.url, "issues", labeledPayload("claude:backend", { number: 4 }));
    await deliver(app.url, "issues", labeledPayload("claude", { number: 5 }));

    expect(await ids(ACTIONS_QUEUE)).toEqual([`${OWNER}/${REPO}#4@1`]);
    expect(await ids("tasks-general")).toEqual([`${OWNER}/${REPO}#5@1`]);
  });
});
