import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentRegistry } from "../src/store/agent-registry.js";
import { SessionStates } from "../src/store/session-states.js";
import { REPO_ROOT, startAgentProcess, waitFor } from "./helpers/agent-process.js";
import { pendingEvents } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

describe("an agent started with the real Claude CLI and no login", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let home: string;
  beforeAll(async () => {
    redis = connectRedis();
    home = await mkdtemp(join(tmpdir(), "ccc-nologin-home-"));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it("checks its login at start, takes no work, and says so with the CLI's own words", async () => {
    const agent = await startAgentProcess({
      name: "fresh-pc",
      prefix,
      redis,
      // A HOME with no credentials: the CLI answers "Not logged in" without any network.
      env: { CLAUDE_BIN: join(REPO_ROOT, "node_modules/.bin/claude"), HOME: home, ANTHROPIC_API_KEY: "" },
    });
    try {
      const session = await waitFor(
        "the session state",
        async () => {
          const state = await new SessionStates(redis, prefix).get("fresh-pc");
          return state?.state === "expired" ? state : undefined;
        },
        60_000,
      );
      expect(session.message).toContain("Not logged in");
      const listed = await waitFor("the registry entry", async () =>
        (await new AgentRegistry(redis, prefix).list()).find((a) => a.name === "fresh-pc" && a.state === "session-expired"),
      );
      expect(listed.tasks).toEqual([]);
      const events = await pendingEvents(redis, prefix);
      expect(events.some((e) => e.type === "session-expired")).toBe(true);
      expect(agent.output()).toContain("claude /login");
    } finally {
      await agent.stop();
    }
  }, 90_000);
});
