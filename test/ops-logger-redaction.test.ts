import { Writable } from "node:stream";
import { RequestError } from "@octokit/request-error";
import { describe, expect, it } from "vitest";
import { createLogger, type LogFormat } from "../src/shared/logger.js";
import { PRIVATE_KEY } from "./helpers/app-server.js";

const TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";
const API_TOKEN = "4f1c2a9b8e7d6c5b4a39281706f5e4d3";

function capture(level = "debug", format: LogFormat = "json") {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: createLogger({ level, format, destination }), text: () => lines.join("") };
}

describe("logs never carry tokens or keys", () => {
  // Pretty lines are made from the redacted JSON line, so they are scrubbed alike (LOG_FORMAT).
  it.for(["json", "pretty"] as const)("an Octokit error, request options and an environment with secrets are logged without them (%s)", (format) => {
    const { log, text } = capture("debug", format);
    const error = new RequestError(`Bad credentials for token ${TOKEN}`, 401, {
      request: { method: "GET", url: "https://api.github.com/app", headers: { authorization: `token ${TOKEN}` } },
      response: { status: 401, url: "https://api.github.com/app", headers: {}, data: { message: "Bad credentials" } },
    });
    log.error({ err: error }, "GitHub refused");
    log.info({ request: { headers: { authorization: `Bearer ${TOKEN}` } }, token: TOKEN }, "request options");
    log.warn({ env: { PRIVATE_KEY, WEBHOOK_SECRET: "wh-secret-value", CCC_API_TOKEN: API_TOKEN, PATH: "/usr/bin" } }, "environment");
    log.info(`a message that quotes ${TOKEN} and a key ${PRIVATE_KEY}`);
    log.info({ nested: { deeper: { note: `clone with https://x-access-token:${TOKEN}@github.com/o/r.git` } } }, "clone url");

    const out = text();
    expect(out).toContain("GitHub refused");
    expect(out).toContain("/usr/bin");
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain("ghs_");
    expect(out).not.toContain(API_TOKEN);
    expect(out).not.toContain("wh-secret-value");
    expect(out).not.toContain("PRIVATE KEY-----");
    expect(out).not.toContain(PRIVATE_KEY.split("\n")[1]!);
    expect(out).toContain("[redacted]");
  });

  it("uses the one redaction table the prompt and the reporter use: an AWS key id in a message is redacted", () => {
    const { log, text } = capture();
    log.info("deploy with AKIAIOSFODNN7EXAMPLE and slack xoxb-123456789012-abcdefABCDEF");
    expect(text()).not.toContain("AKIAIOSFODNN7EXAMPLE");
    expect(text()).not.toContain("xoxb-");
    expect(text()).toContain("deploy with [redacted]");
  });

  it("the level comes from the configuration", () => {
    const { log, text } = capture("warn");
    log.info("hidden");
    log.warn("shown");
    expect(text()).toContain("shown");
    expect(text()).not.toContain("hidden");
  });
});
