import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import nock from "nock";
import { ProbotOctokit } from "probot";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { githubTracingPlugin } from "../src/github/github-tracing-plugin.js";
import { withSpan } from "../src/telemetry/tracer.js";
import { startInMemoryTracing } from "./helpers/in-memory-tracing.js";

const Octokit = ProbotOctokit.plugin(githubTracingPlugin());
const client = () => new Octokit({ auth: { token: "ghs_0123456789abcdefghijABCDEFGHIJ012345" }, retry: { enabled: false }, throttle: { enabled: false } });

describe("GitHub API calls as spans", () => {
  let tracing: ReturnType<typeof startInMemoryTracing>;
  beforeAll(() => {
    tracing = startInMemoryTracing();
  });
  afterEach(() => tracing.reset());
  afterAll(() => tracing.stop());

  it("a call inside a span is a CLIENT child with the method, the route template and the status, nothing of the path's values or the body", async () => {
    nock("https://api.github.com").post("/repos/octo-org/hello/issues/7/comments").reply(201, { id: 1, body: "Secret plans" });
    await withSpan("reporter task-changed", {}, () =>
      client().rest.issues.createComment({ owner: "octo-org", repo: "hello", issue_number: 7, body: "Secret plans" }),
    );
    const [call, parent] = tracing.spans();
    expect(call?.name).toBe("GitHub POST /repos/{owner}/{repo}/issues/{issue_number}/comments");
    expect(call?.kind).toBe(SpanKind.CLIENT);
    expect(call?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    expect(call?.attributes).toEqual({
      "http.request.method": "POST",
      "url.template": "/repos/{owner}/{repo}/issues/{issue_number}/comments",
      "server.address": "api.github.com",
      "http.response.status_code": 201,
    });
    expect(JSON.stringify(call?.attributes)).not.toMatch(/octo-org|Secret|ghs_/);
  });

  it("a refused call is an ERROR span with GitHub's status, and the error still reaches the caller", async () => {
    nock("https://api.github.com").get("/repos/octo-org/hello/pulls/9").reply(404, { message: "Not Found" });
    await expect(withSpan("look", {}, () => client().rest.pulls.get({ owner: "octo-org", repo: "hello", pull_number: 9 }))).rejects.toMatchObject({
      status: 404,
    });
    const call = tracing.spans().find((span) => span.kind === SpanKind.CLIENT);
    expect(call?.status.code).toBe(SpanStatusCode.ERROR);
    expect(call?.attributes["http.response.status_code"]).toBe(404);
  });

  it("a call outside any span makes none", async () => {
    nock("https://api.github.com").get("/repos/octo-org/hello").reply(200, { id: 1 });
    await client().rest.repos.get({ owner: "octo-org", repo: "hello" });
    expect(tracing.spans()).toEqual([]);
  });
});
