import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, resolveLogFormat, type LogFormat } from "../src/shared/logger.js";
import { startAgentProcess, waitFor } from "./helpers/agent-process.js";
import { startAppProcess } from "./helpers/app-process.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const TOKEN = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";

function capture(format: LogFormat) {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    log: createLogger({ name: "ccc-test", format, destination }),
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((l) => l.trim() !== ""),
  };
}

const isJsonObject = (line: string) => {
  try {
    return typeof JSON.parse(line) === "object";
  } catch {
    return false;
  }
};
const nameKeys = (line: string) => line.match(/"name":/g)?.length ?? 0;

describe("LOG_FORMAT", () => {
  it("auto is pretty on a terminal and JSON on a pipe; json and pretty force it", () => {
    expect(resolveLogFormat(undefined, true)).toBe("pretty");
    expect(resolveLogFormat("auto", false)).toBe("json");
    expect(resolveLogFormat("json", true)).toBe("json");
    expect(resolveLogFormat("pretty", false)).toBe("pretty");
  });

  it("pretty lines are plain text and still redact a token, in the message and in a field", () => {
    const { log, lines } = capture("pretty");
    log.info({ agent: "pc-1", note: `clone with ${TOKEN}` }, `pushed with ${TOKEN}`);
    log.child({ name: "octokit" }).warn("from a library's named child");
    const out = lines();
    expect(out.join("\n")).toContain("pushed with [redacted]");
    expect(out.join("\n")).toContain("from a library's named child");
    expect(out.join("\n")).not.toContain("ghp_");
    expect(out.filter(isJsonObject)).toEqual([]);
  });

  it("JSON lines carry one name: a child's name binding is logged as module", () => {
    const { log, lines } = capture("json");
    const probot = log.child({ component: "probot" }).child({ name: "probot" });
    probot.child({ name: "octokit" }).info("request");
    log.info("plain");
    const [child, plain] = lines();
    expect(nameKeys(child!)).toBe(1);
    expect(JSON.parse(child!)).toMatchObject({ name: "ccc-test", component: "probot", module: "probot/octokit", msg: "request" });
    expect(JSON.parse(plain!)).not.toHaveProperty("module");
  });

  it("Probot's setup banner, a line at a time between blank lines, is one line", () => {
    const { log, lines } = capture("json");
    const setup = log.child({ name: "setup" });
    for (const line of ["", "Welcome to Probot!", "Probot is in setup mode, webhooks cannot be received and", "are configured in .env.", ""]) setup.info(line);
    log.info("after");
    expect(lines().map((l) => JSON.parse(l).msg)).toEqual([
      "Welcome to Probot! Probot is in setup mode, webhooks cannot be received and are configured in .env.",
      "after",
    ]);
  });
});

describe("the logs of real processes", () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let tokenDir: string;

  beforeAll(async () => {
    redis = connectRedis();
    tokenDir = await mkdtemp(join(tmpdir(), "ccc-log-format-"));
  });
  afterAll(async () => {
    await rm(tokenDir, { recursive: true, force: true });
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  /** An agent started, stopped (exit 0) once it is ready, and what it printed. */
  async function outputUntilReady(options: { name: string; env: Record<string, string>; extraArgs?: string[] }): Promise<{ lines: string[]; output: string }> {
    const agent = await startAgentProcess({ ...options, prefix, redis });
    try {
      await waitFor("the ready line", async () => agent.output().includes("agent ready"));
    } finally {
      expect(await agent.stop()).toBe(0);
    }
    const output = agent.output();
    return { output, lines: output.split("\n").filter((l) => l.trim() !== "") };
  }

  it("an agent with LOG_FORMAT=json writes JSON lines with exactly one name each", async () => {
    const { lines } = await outputUntilReady({ name: "json-agent", env: { LOG_FORMAT: "json" } });
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) {
      expect(isJsonObject(line), line).toBe(true);
      expect(nameKeys(line), line).toBe(1);
    }
    const ready = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "agent ready");
    expect(ready).toMatchObject({ name: "ccc-agent", agent: "json-agent" });
  }, 40_000);

  it("an agent with LOG_FORMAT=pretty writes readable lines, and a token in its workdir is redacted", async () => {
    // The ready line logs the workdir: a token in it must not reach the output.
    const workdir = join(tokenDir, `wd-${TOKEN}`);
    const { lines, output } = await outputUntilReady({ name: "pretty-agent", env: { LOG_FORMAT: "pretty", NO_COLOR: "1" }, extraArgs: ["--workdir", workdir] });
    expect(lines.filter(isJsonObject)).toEqual([]);
    expect(output).toMatch(/INFO \(ccc-agent\): agent ready/);
    expect(output).toContain("wd-[redacted]");
    expect(output).not.toContain("ghp_");
  }, 40_000);

  it("the app's start-up is a few JSON lines with one name each, or readable lines with LOG_FORMAT=pretty", async () => {
    const json = await startAppProcess({ prefix });
    await json.stop();
    const lines = json
      .output()
      .split("\n")
      .filter((l) => l.trim() !== "");
    for (const line of lines) {
      expect(isJsonObject(line), line).toBe(true);
      expect(nameKeys(line), line).toBe(1);
    }
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(expect.arrayContaining([expect.stringMatching(/^Listening on http:/)]));

    const pretty = await startAppProcess({ prefix, env: { LOG_FORMAT: "pretty", NO_COLOR: "1" } });
    await pretty.stop();
    expect(pretty.output()).toMatch(/INFO \(ccc-app\): Listening on http:/);
    expect(pretty.output().split("\n").filter(isJsonObject)).toEqual([]);
  }, 60_000);
});
