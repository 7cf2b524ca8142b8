import type { Redis } from "ioredis";
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { OUTSIDER_REACTION_WINDOW_SECONDS } from "../src/app/react-to-outsider.js";
import { ClusterControl } from "../src/store/cluster-control.js";
import { deliver, startAppServer, type RunningApp } from "./helpers/app-server.js";
import { API, nockInstallationToken, nockPermission, nockRepoConfig } from "./helpers/github-nock.js";
import { closeIntakeDeps, intakeDeps, pendingEvents, waitingJobs } from "./helpers/intake.js";
import { commentPayload, labeledPayload } from "./helpers/payloads.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const OWNER = "octo-org";
const REPO = "hello";
const OPS = "ops";

describe("who gets an answer, and who may steer the cluster, from /claude comments", () => {
  let redis: Redis;
  let prefix: string;
  let deps: IntakeDeps;
  let app: RunningApp;

  const events = async () => (await pendingEvents(redis, prefix)) as Array<Record<string, unknown>>;
  const replies = async () => (await events()).filter((e) => e.type === "reply").map((e) => String(e.body));
  const clusterMode = async () => (await new ClusterControl(redis, prefix).get()).mode;
  /** The ops repository as main.ts wires it: a client on its own installation. */
  const useOpsRepo = () => {
    deps.opsRepo = async () => ({ owner: OWNER, repo: OPS, octokit: await app.probot.auth(9001) });
  };

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

  describe("users without write access", () => {
    it("`/claude help` from a reader gets a 👎 reaction on the comment through the reporter, and no comment", async () => {
      nockPermission(OWNER, REPO, "visitor", "read");
      await deliver(app.url, "issue_comment", commentPayload("/claude help", { sender: "visitor", commentId: 777 }));
      expect(await events()).toEqual([{ type: "react", installationId: 4242, owner: OWNER, repo: REPO, issueNumber: 7, commentId: 777, content: "-1" }]);
    });

    it("a `claude` label from a user with triage access gets a 👎 on the issue, checked before the config: no comment, even on a broken config", async () => {
      nockPermission(OWNER, REPO, "triager", "triage");
      nockRepoConfig(OWNER, REPO, "maxTurns: lots\n");
      await deliver(app.url, "issues", labeledPayload("claude", { sender: "triager" }));
      await deliver(app.url, "issues", labeledPayload("claude:backend", { sender: "triager", labels: ["claude"] }));
      expect(await events()).toEqual([{ type: "react", installationId: 4242, owner: OWNER, repo: REPO, issueNumber: 7, content: "-1" }]);
      expect(await waitingJobs(redis, prefix, "tasks-general")).toHaveLength(0);
      expect(await waitingJobs(redis, prefix, "tasks-backend")).toHaveLength(0);
    });

    it("get at most one reaction per issue in ten minutes, whatever they post, and never queue or stop anything", async () => {
      nockPermission(OWNER, REPO, "visitor", "triage");
      for (const [i, body] of ["/claude status", "/claude run", "/claude stop", "/claude run priority:high priority:low", "/claude cancel"].entries()) {
        await deliver(app.url, "issue_comment", commentPayload(body, { sender: "visitor", commentId: 800 + i }));
      }
      expect((await events()).map((e) => `${e.type} ${e.commentId}`)).toEqual(["react 800"]);
      expect(await waitingJobs(redis, prefix, "tasks-general")).toHaveLength(0);
      expect(await clusterMode()).toBe("running");
      const ttl = await redis.ttl(`${prefix}:outsider-reaction:${OWNER}/${REPO}#7`);
      expect(ttl).toBeGreaterThan(OUTSIDER_REACTION_WINDOW_SECONDS - 10);
      expect(ttl).toBeLessThanOrEqual(OUTSIDER_REACTION_WINDOW_SECONDS);

      // Another issue has its own window.
      await deliver(app.url, "issue_comment", commentPayload("/claude help", { sender: "visitor", number: 8, commentId: 900 }));
      expect((await events()).map((e) => `${e.type} ${e.commentId}`).sort()).toEqual(["react 800", "react 900"]);
    });

    it("a comment on a pull request from a user who is not a collaborator gets no comment either", async () => {
      nock(API).get(`/repos/${OWNER}/${REPO}/collaborators/stranger/permission`).reply(404, { message: "Not Found" });
      const payload = commentPayload("/claude run", { sender: "stranger" });
      payload.issue.pull_request = { url: "https://api.github.com/repos/octo-org/hello/pulls/7" };
      await deliver(app.url, "issue_comment", payload);
      expect((await events()).map((e) => e.type)).toEqual(["react"]);
    });
  });

  describe("cluster-wide controls", () => {
    it("a maintainer of the repository who is not one of the ops repository is refused, and told what always works", async () => {
      useOpsRepo();
      nockPermission(OWNER, REPO, "maintainer", "admin");
      nockPermission(OWNER, OPS, "maintainer", "write");
      await deliver(app.url, "issue_comment", commentPayload("/claude stop"));
      expect(await clusterMode()).toBe("running");
      const [body] = await replies();
      expect(body).toContain("`/claude stop` was not run");
      expect(body).toContain(`@maintainer has write access to ${OWNER}/${OPS}, the cluster's ops repository`);
      expect(body).toContain("`ccc pause|resume|stop` and the control API");
    });

    it("an admin of the ops repository stops the cluster from a repository where they only have write access", async () => {
      useOpsRepo();
      nockPermission(OWNER, REPO, "maintainer", "write");
      nockPermission(OWNER, OPS, "maintainer", "admin");
      await deliver(app.url, "issue_comment", commentPayload("/claude stop"));
      expect(await clusterMode()).toBe("stopped");
      expect((await replies())[0]).toContain("Emergency stop by @maintainer");
    });

    it("when the ops repository cannot be reached (the app is not installed there), the command is refused, not run", async () => {
      deps.opsRepo = () => Promise.reject(Object.assign(new Error("Not Found"), { status: 404 }));
      nockPermission(OWNER, REPO, "maintainer", "admin");
      await deliver(app.url, "issue_comment", commentPayload("/claude pause"));
      expect(await clusterMode()).toBe("running");
      expect((await replies())[0]).toContain("could not check access to its `CCC_OPS_REPO`");
    });

    it("a login listed in CCC_ADMINS pauses and resumes without an ops repository", async () => {
      deps.clusterAdmins = ["Maintainer"];
      nockPermission(OWNER, REPO, "maintainer", "write");
      await deliver(app.url, "issue_comment", commentPayload("/claude pause"));
      expect(await clusterMode()).toBe("paused");
      await deliver(app.url, "issue_comment", commentPayload("/claude resume", { commentId: 556 }));
      expect(await clusterMode()).toBe("running");
    });

    it("with neither CCC_OPS_REPO nor CCC_ADMINS, an admin of the repository cannot resume over an operator's stop", async () => {
      await new ClusterControl(redis, prefix).stop("ccc (operator)");
      nockPermission(OWNER, REPO, "maintainer", "admin");
      await deliver(app.url, "issue_comment", commentPayload("/claude resume"));
      expect(await clusterMode()).toBe("stopped");
      const [body] = await replies();
      expect(body).toContain("neither `CCC_ADMINS` nor `CCC_OPS_REPO` set");
      expect(body).toContain("`ccc pause|resume|stop`");
    });
  });
});
