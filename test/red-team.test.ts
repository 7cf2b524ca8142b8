import { createHmac, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentRegistry } from "../src/store/agent-registry.js";
import type { TaskRecord } from "../src/queue/task-record.js";
import { waitFor } from "./helpers/agent-process.js";
import { useCluster } from "./helpers/cluster.js";
import { labeledPayload } from "./helpers/payloads.js";

const REPO = "octo-org/hello";

/** Secrets on the agent PC, in the agent's environment: none may reach Claude or GitHub. */
const AGENT_SECRETS = {
  GH_TOKEN: `ghp_${"A1b2C3d4E5".repeat(4)}`,
  SSH_AUTH_SOCK: "/tmp/ssh-red-team/agent.sock",
  WEBHOOK_SECRET: "red-team-webhook-secret-value",
  PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nredteamkeymaterial\n-----END RSA PRIVATE KEY-----",
};
/** A secret-shaped value Claude does see (the owner passes it): it must still not be published. */
const CANARY = `ghp_${"CanaryToken".repeat(3)}xyz`;

/** The repository's wishes: everything the agent owner does not allow by default. */
const HOSTILE_CONFIG = ["permissionMode: bypassPermissions", "allowedTools: [Bash, WebFetch, Edit, Write]", "model: claude-opus-unapproved", ""].join("\n");

/** Text that GitHub shows literally: fenced blocks and code spans neither fetch, link nor ping. */
function outsideCode(markdown: string): string {
  return markdown.replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/(`+)[^`]*?\1/g, "");
}

/**
 * A stranger's issue against the app process and one agent process, as an attacker would try
 * it: the repository's config, Claude's own output, the worktree's git, the prompt's size and
 * the webhook signature. Each case says what was tried; the assertions are what held.
 */
describe("red team: a stranger's issue against the app and a lone agent", () => {
  const cluster = useCluster({ env: { CCC_RECONCILE_SECONDS: "1" } });
  let dir: string;
  const files = { scenario: "", args: "", env: "", marker: "", release: "" };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ccc-red-team-"));
    Object.assign(files, {
      scenario: join(dir, "scenario"),
      args: join(dir, "argv.json"),
      env: join(dir, "env.json"),
      marker: join(dir, "pwned"),
      release: join(dir, "release"),
    });
    cluster.github.setFile(REPO, ".github/claude-cluster.yml", HOSTILE_CONFIG);
    await cluster.startAgent({
      name: "target",
      extraArgs: ["--models", "claude-sonnet-4-5"],
      env: {
        ...AGENT_SECRETS,
        FAKE_CLAUDE_SCENARIO_FILE: files.scenario,
        FAKE_CLAUDE_ARGS_FILE: files.args,
        FAKE_CLAUDE_ENV_FILE: files.env,
        FAKE_CLAUDE_MARKER: files.marker,
        FAKE_CLAUDE_CANARY: CANARY,
        // Each run waits for the test to release it, so its running state is on GitHub first.
        FAKE_CLAUDE_HOLD_FILE: join(dir, "release"),
      },
    });
    await waitFor("the agent to be idle", async () => (await registry()).find((a) => a.name === "target" && a.state === "idle"));
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const registry = () => new AgentRegistry(cluster.redis, cluster.prefix).list();
  const record = (number: number, check: (r: TaskRecord) => boolean) => async () => {
    const found = await cluster.store.get(`${REPO}#${number}`);
    return found && check(found) ? found : undefined;
  };
  /** Every text the app wrote to GitHub so far: comment, issue and PR bodies, titles. */
  const published = () =>
    cluster.github.requests
      .filter((request) => request.method !== "GET")
      .flatMap((request) => Object.values(request.body).filter((value): value is string => typeof value === "string"));
  /** Settled: the reporter has nothing left to write. */
  const drained = () =>
    waitFor("the events queue to drain", async () => {
      const counts = await cluster.eventCounts();
      return counts.waiting + counts.delayed + counts.active === 0;
    });
  const label = (number: number, title: string, body?: string) =>
    cluster.deliver("issues", labeledPayload("claude", { number, title, cloneUrl: cluster.origin.url, ...(body !== undefined ? { body } : {}) }));

  it("a hostile repository config is capped to the agent owner's ceiling, and the tracking comment says so", async () => {
    await writeFile(files.scenario, "edit");
    await writeFile(files.release, "");
    expect((await label(41, "Capped by the owner")).status).toBe(200);
    await waitFor(
      "the PR",
      record(41, (r) => r.state === "pr-open"),
      40_000,
    );

    const { argv } = JSON.parse(await readFile(files.args, "utf8")) as { argv: string[] };
    expect(argv[argv.indexOf("--permission-mode") + 1]).toBe("acceptEdits");
    expect(argv[argv.indexOf("--allowedTools") + 1]).toBe("Edit,Write");
    expect(argv).not.toContain("--model");
    expect(argv.join(" ")).not.toMatch(/bypassPermissions|Bash|WebFetch|claude-opus-unapproved/);
    await waitFor("the capped line on the tracking comment", async () =>
      cluster.github.comments(REPO, 41).find((c) => c.user.type === "Bot" && c.body.includes("**Capped by agent `target`**")),
    );
  }, 60_000);

  it("a Claude that hunts for secrets finds none, and its canary, beacon image, outside link, team mention and cross-reference are published dead", async () => {
    await writeFile(files.scenario, "hostile");
    await rm(files.release, { force: true });
    expect((await label(42, "Exfiltrate through the PR")).status).toBe(200);
    // Claude's live progress line names its tool call, bait and all; then the run may end.
    await waitFor(
      "the progress line",
      async () => cluster.github.comments(REPO, 42).find((c) => c.bodies.some((body) => body.includes("**Progress**"))),
      45_000,
    );
    await writeFile(files.release, "");
    await waitFor(
      "the PR",
      record(42, (r) => r.state === "pr-open"),
      40_000,
    );
    await waitFor("the tracking comment at pr-open", async () =>
      cluster.github.comments(REPO, 42).find((c) => c.user.type === "Bot" && c.body.includes("**Pull request opened**")),
    );

    // What Claude's process had: no secret of the agent's, no Redis, no cluster setting.
    const claudeEnv = JSON.parse(await readFile(files.env, "utf8")) as Record<string, string>;
    for (const name of [...Object.keys(AGENT_SECRETS), "REDIS_URL", "GITHUB_TOKEN"]) expect(claudeEnv, name).not.toHaveProperty(name);
    expect(Object.keys(claudeEnv).filter((name) => name.startsWith("CCC_"))).toEqual([]);
    expect(claudeEnv.FAKE_CLAUDE_CANARY).toBe(CANARY);

    // What reached GitHub: the PR body carries Claude's answer, the comment its progress.
    const branch = (await cluster.store.get(`${REPO}#42`))?.branch;
    const pull = cluster.github.pulls(REPO).find((p) => p.head === `octo-org:${branch}`);
    expect(pull?.body).toContain("Found in my environment");
    expect(pull?.body).toContain("(nothing)");
    const texts = published();
    const all = texts.join("\n");
    expect(all).not.toContain(CANARY);
    for (const secret of Object.values(AGENT_SECRETS)) expect(all).not.toContain(secret);
    for (const text of texts) {
      const live = outsideCode(text);
      expect(live, text).not.toMatch(/!\[[^\]]*\]\(\s*<?https?:\/\/evil\.example/);
      expect(live, text).not.toMatch(/<img[^>]*evil\.example/i);
      expect(live, text).not.toMatch(/\]\(\s*<?https?:\/\/evil\.example/);
      expect(live, text).not.toMatch(/https?:\/\/evil\.example/);
      expect(live, text).not.toMatch(/@octo-org\/admins|@some-user/);
      expect(live, text).not.toMatch(/octo-org\/other#1/);
    }
  }, 60_000);

  it("a Claude that rewrites the worktree's .git to run its own fsmonitor runs nothing in the agent's git, and nothing is pushed", async () => {
    await writeFile(files.scenario, "tamper-git");
    expect((await label(43, "Plant a gitdir")).status).toBe(200);
    const failed = await waitFor(
      "the task to fail",
      record(43, (r) => r.state === "failed"),
      40_000,
    );
    expect(failed.failure?.message).toContain("the worktree's .git was changed during the run");
    expect(failed.attempt ?? 1).toBe(1);
    expect(existsSync(files.marker)).toBe(false);
    expect(cluster.github.pulls(REPO).filter((p) => p.head === `octo-org:${failed.branch}`)).toEqual([]);
    const pushed = await execa("git", ["ls-remote", "--heads", cluster.origin.url], { reject: false });
    expect(pushed.stdout).not.toContain(failed.branch);
  }, 60_000);

  it("a 300 KiB multibyte issue (body and comments) reaches Claude whole on stdin and runs to its PR", async () => {
    await writeFile(files.scenario, "edit");
    const wide = (n: number) => "中".repeat(n);
    cluster.github.addComment(REPO, 44, wide(29_000));
    cluster.github.addComment(REPO, 44, wide(29_000));
    const payload = labeledPayload("claude", { number: 44, title: "A very long issue", body: wide(60_000), comments: 2, cloneUrl: cluster.origin.url });
    expect((await cluster.deliver("issues", payload)).status).toBe(200);
    await waitFor(
      "the PR",
      record(44, (r) => r.state === "pr-open"),
      40_000,
    );

    const { prompt, promptBytes } = JSON.parse(await readFile(files.args, "utf8")) as { prompt: string; promptBytes: number };
    expect(prompt).toContain("A very long issue");
    expect(promptBytes).toBeGreaterThan(300 * 1024);
    expect(prompt.split("中").length - 1).toBe(60_000 + 2 * 29_000);
  }, 60_000);

  it("a webhook signed with Probot's development fallback is refused and writes nothing", async () => {
    await drained();
    const before = published().length;
    const body = JSON.stringify(labeledPayload("claude", { number: 45, title: "Forged", cloneUrl: cluster.origin.url }));
    const response = await fetch(`${cluster.app.base}/api/github/webhooks`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "issues",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": `sha256=${createHmac("sha256", "development").update(body).digest("hex")}`,
      },
      body,
    });
    expect(response.status).toBe(400);
    await drained();
    expect(await cluster.store.get(`${REPO}#45`)).toBeUndefined();
    expect(published().length).toBe(before);
    expect(cluster.github.comments(REPO, 45)).toEqual([]);
  }, 30_000);
});
