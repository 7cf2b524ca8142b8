import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claudeEnv } from "../src/claude/claude-env.js";
import { runClaude } from "../src/claude/run-claude.js";
import { silentLogger } from "../src/shared/logger.js";

const FAKE = fileURLToPath(new URL("./fake-claude/fake-claude.mjs", import.meta.url));

/** What an agent PC's environment holds that Claude must never see. */
const SECRETS = {
  REDIS_URL: "redis://:hunter2@redis.internal:6379",
  CCC_API_TOKEN: "0123456789abcdef0123456789abcdef",
  CCC_PREFIX: "ccc",
  GH_TOKEN: "ghp_agentownerstoken",
  GITHUB_TOKEN: "ghs_jobtoken",
  SSH_AUTH_SOCK: "/tmp/ssh-agent.sock",
  WEBHOOK_SECRET: "whsec",
  PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----",
  PRIVATE_KEY_PATH: "/etc/ccc/app.pem",
  APP_ID: "12345",
  CLAUDE_BIN: "/usr/local/bin/claude",
};

/** What the CLI needs of the user's session: passed as it is. */
const USER_AND_LOCALE = {
  PATH: "/bin",
  HOME: "/home/a",
  USER: "a",
  LOGNAME: "a",
  SHELL: "/bin/zsh",
  LANG: "pl_PL.UTF-8",
  LC_ALL: "C",
  LC_CTYPE: "C",
  TERM: "xterm",
  TMPDIR: "/tmp",
  TZ: "UTC",
};

describe("claudeEnv", () => {
  it.each<[string, NodeJS.ProcessEnv, Record<string, string>]>([
    ["the user, the terminal and the locale pass", USER_AND_LOCALE, USER_AND_LOCALE],
    [
      "Claude's login and configuration pass",
      { ANTHROPIC_API_KEY: "sk", CLAUDE_CODE_OAUTH_TOKEN: "oat", CLAUDE_CONFIG_DIR: "/c", CLAUDE_CODE_USE_BEDROCK: "1" },
      { ANTHROPIC_API_KEY: "sk", CLAUDE_CODE_OAUTH_TOKEN: "oat", CLAUDE_CONFIG_DIR: "/c", CLAUDE_CODE_USE_BEDROCK: "1" },
    ],
    [
      "AWS and Google credentials stay out when Claude runs on Anthropic's API",
      { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "s", GOOGLE_APPLICATION_CREDENTIALS: "/g.json", CLOUD_ML_REGION: "us-east5" },
      {},
    ],
    [
      "Bedrock credentials pass when Claude runs on Bedrock",
      { CLAUDE_CODE_USE_BEDROCK: "1", AWS_REGION: "us-east-1", AWS_PROFILE: "p", AWS_BEARER_TOKEN_BEDROCK: "b", GOOGLE_APPLICATION_CREDENTIALS: "/g.json" },
      { CLAUDE_CODE_USE_BEDROCK: "1", AWS_REGION: "us-east-1", AWS_PROFILE: "p", AWS_BEARER_TOKEN_BEDROCK: "b" },
    ],
    [
      "Vertex credentials and regions pass when Claude runs on Vertex",
      {
        CLAUDE_CODE_USE_VERTEX: "true",
        CLOUD_ML_REGION: "us-east5",
        VERTEX_REGION_CLAUDE_3_5_HAIKU: "r",
        GOOGLE_APPLICATION_CREDENTIALS: "/g.json",
        AWS_SECRET_ACCESS_KEY: "s",
      },
      { CLAUDE_CODE_USE_VERTEX: "true", CLOUD_ML_REGION: "us-east5", VERTEX_REGION_CLAUDE_3_5_HAIKU: "r", GOOGLE_APPLICATION_CREDENTIALS: "/g.json" },
    ],
    ["a switch set to 0 is off", { CLAUDE_CODE_USE_BEDROCK: "0", AWS_SECRET_ACCESS_KEY: "s" }, { CLAUDE_CODE_USE_BEDROCK: "0" }],
    [
      "proxies in both cases and a CA pass",
      { HTTPS_PROXY: "http://p", https_proxy: "http://p", NO_PROXY: "x", no_proxy: "x", NODE_EXTRA_CA_CERTS: "/ca.pem" },
      { HTTPS_PROXY: "http://p", https_proxy: "http://p", NO_PROXY: "x", no_proxy: "x", NODE_EXTRA_CA_CERTS: "/ca.pem" },
    ],
    [
      "git's author and committer pass",
      { GIT_AUTHOR_NAME: "A", GIT_AUTHOR_EMAIL: "a@x", GIT_COMMITTER_NAME: "C", GIT_COMMITTER_EMAIL: "c@x", GIT_DIR: "/elsewhere" },
      { GIT_AUTHOR_NAME: "A", GIT_AUTHOR_EMAIL: "a@x", GIT_COMMITTER_NAME: "C", GIT_COMMITTER_EMAIL: "c@x" },
    ],
    ["the agent's secrets and settings never pass", { ...SECRETS, PATH: "/bin" }, { PATH: "/bin" }],
    ["anything else does not pass", { NPM_TOKEN: "n", DATABASE_URL: "postgres://", JAVA_HOME: "/jdk", FAKE_CLAUDE_SCENARIO: "edit" }, {}],
    [
      "the owner's list passes names and prefixes",
      { CCC_CLAUDE_ENV_PASS: "JAVA_HOME, NVM_*", JAVA_HOME: "/jdk", NVM_DIR: "/nvm", NVM_BIN: "/nvm/bin", NPM_TOKEN: "n" },
      { JAVA_HOME: "/jdk", NVM_DIR: "/nvm", NVM_BIN: "/nvm/bin" },
    ],
    ["the owner's list cannot pass a never-passed name", { CCC_CLAUDE_ENV_PASS: "REDIS_URL,CCC_*,GH_TOKEN,SSH_AUTH_SOCK,PRIVATE_KEY*", ...SECRETS }, {}],
    [
      "the Redis topology settings never pass, not even named by the owner",
      {
        CCC_CLAUDE_ENV_PASS: "REDIS_*,REDIS_PASSWORD,REDIS_SENTINEL_PASSWORD",
        REDIS_SENTINELS: "10.0.0.1:26379",
        REDIS_SENTINEL_NAME: "mymaster",
        REDIS_SENTINEL_PASSWORD: "sentinel-secret",
        REDIS_USERNAME: "ccc-agent",
        REDIS_PASSWORD: "hunter2hunter2",
        REDIS_TLS_CA: "/etc/ccc/redis-ca.pem",
      },
      {},
    ],
    ["a bare * in the owner's list passes nothing", { CCC_CLAUDE_ENV_PASS: "*", NPM_TOKEN: "n" }, {}],
    ["unset values are left out", { PATH: undefined, HOME: "/h" }, { HOME: "/h" }],
    [
      "Claude's telemetry and the agent's OTEL_* settings (a collector's API key in its headers) stay out by default",
      {
        CLAUDE_CODE_ENABLE_TELEMETRY: "1",
        CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: "1",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=secret",
      },
      {},
    ],
    [
      "Claude's telemetry passes when the owner names it, with the OTEL_* settings the owner names",
      {
        CCC_CLAUDE_ENV_PASS: "CLAUDE_CODE_ENABLE_TELEMETRY,CLAUDE_CODE_ENHANCED_TELEMETRY_BETA,OTEL_*",
        CLAUDE_CODE_ENABLE_TELEMETRY: "1",
        CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: "1",
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      },
      {
        CLAUDE_CODE_ENABLE_TELEMETRY: "1",
        CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: "1",
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      },
    ],
    [
      "a trace context the agent was started with never passes, even when named: each run gets its own",
      { CCC_CLAUDE_ENV_PASS: "TRACEPARENT,TRACESTATE", TRACEPARENT: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", TRACESTATE: "a=b" },
      {},
    ],
  ])("%s", (_name, parent, expected) => {
    expect(claudeEnv(parent)).toEqual(expected);
  });
});

describe("the environment the CLI runs with", () => {
  let dir: string;
  let saved: NodeJS.ProcessEnv;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "ccc-claude-env-"));
    saved = { ...process.env };
  });
  afterEach(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  async function envSeenByClaude(extra: Record<string, string> = {}): Promise<Record<string, string>> {
    const envFile = join(dir, "env.json");
    const outcome = await runClaude({
      bin: FAKE,
      prompt: "Fix issue #7",
      cwd: dir,
      maxTurns: 1,
      permissionMode: "default",
      allowedTools: [],
      timeoutMs: 20_000,
      log: silentLogger,
      // The documented way to hand Claude something on purpose.
      env: { FAKE_CLAUDE_SCENARIO: "no-changes", FAKE_CLAUDE_ENV_FILE: envFile, ...extra },
    });
    expect(outcome.ok).toBe(true);
    return JSON.parse(readFileSync(envFile, "utf8")) as Record<string, string>;
  }

  it("holds none of the agent's secrets, but PATH and HOME", async () => {
    Object.assign(process.env, SECRETS, { CCC_GUARD_GRACE_MS: "500", NPM_TOKEN: "npm_x" });
    const seen = await envSeenByClaude();
    for (const name of [...Object.keys(SECRETS), "CCC_GUARD_GRACE_MS", "NPM_TOKEN"]) expect(seen, name).not.toHaveProperty(name);
    expect(Object.keys(seen).filter((name) => name.startsWith("CCC_"))).toEqual([]);
    expect(seen.PATH).toBe(process.env.PATH);
    expect(seen.HOME).toBe(process.env.HOME);
    expect(seen.FAKE_CLAUDE_SCENARIO).toBe("no-changes");
  });

  it("passes what the agent owner lists in CCC_CLAUDE_ENV_PASS, and the caller's explicit extras win", async () => {
    Object.assign(process.env, { CCC_CLAUDE_ENV_PASS: "CORP_*", CORP_REGISTRY: "https://npm.corp", LANG: "C.UTF-8" });
    const seen = await envSeenByClaude({ LANG: "pl_PL.UTF-8" });
    expect(seen.CORP_REGISTRY).toBe("https://npm.corp");
    expect(seen).not.toHaveProperty("CCC_CLAUDE_ENV_PASS");
    expect(seen.LANG).toBe("pl_PL.UTF-8");
  });

  it("git run by Claude itself ignores an fsmonitor or hooks a rewritten repository config sets", async () => {
    const marker = join(dir, "pwned");
    const repo = join(dir, "repo");
    execFileSync("git", ["init", "-q", repo]);
    // What Claude, with Write inside the worktree, could plant for the next `git status`.
    execFileSync("git", ["-C", repo, "config", "core.fsmonitor", `touch ${marker}; false`]);
    execFileSync("mkdir", ["-p", join(repo, ".git", "evil-hooks")]);
    writeFileSync(join(repo, ".git", "evil-hooks", "pre-commit"), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    execFileSync("git", ["-C", repo, "config", "core.hooksPath", join(repo, ".git", "evil-hooks")]);
    // The fake's edit scenario runs `git add` and `git commit` in its cwd, as Claude's Bash tool would.
    const outcome = await runClaude({
      bin: FAKE,
      prompt: "Fix issue #7",
      cwd: repo,
      maxTurns: 3,
      permissionMode: "acceptEdits",
      allowedTools: [],
      timeoutMs: 20_000,
      log: silentLogger,
      env: {
        FAKE_CLAUDE_SCENARIO: "edit",
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@example.com",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@example.com",
      },
    });
    expect(outcome.ok).toBe(true);
    expect(execFileSync("git", ["-C", repo, "log", "--format=%s"], { encoding: "utf8" })).toContain("Update CLAUDE_CHANGE.md");
    expect(existsSync(marker)).toBe(false);
  });
});
