import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntakeDeps } from "../src/app/intake-deps.js";
import { AgentRegistry, type AgentInfo } from "../src/store/agent-registry.js";
import { BudgetGates } from "../src/store/budget-gates.js";
import { ClusterControl } from "../src/store/cluster-control.js";
import { PullRequestFates } from "../src/store/pull-request-fates.js";
import { UsageStore } from "../src/store/usage-store.js";
import { REPO_ROOT, waitFor } from "./helpers/agent-process.js";
import { API_TOKEN, startAppProcess, type AppProcess } from "./helpers/app-process.js";
import { closeIntakeDeps, intakeDeps } from "./helpers/intake.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";
import { claimTestTask, enqueueDirect } from "./helpers/tasks.js";

const CHROMIUM = "/usr/bin/chromium";
const missing = existsSync(CHROMIUM) ? "" : ` — SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium)`;
export const SCREENSHOT = join(REPO_ROOT, "test/.tmp/dashboard.png");

describe.skipIf(missing !== "")(`the dashboard in headless Chromium${missing}`, () => {
  let redis: Redis;
  const prefix = randomPrefix();
  let deps: IntakeDeps;
  let app: AppProcess;
  let browser: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    redis = connectRedis();
    deps = intakeDeps(redis, prefix);
    app = await startAppProcess({
      prefix,
      env: { CCC_BUDGETS: "team=40", CCC_USAGE_CHECK_SECONDS: "1", CCC_TRACE_URL: "https://jaeger.example/trace/{traceId}" },
    });
    profile = mkdtempSync(join(tmpdir(), "ccc-chromium-"));
    // A fresh profile per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await closeIntakeDeps(deps);
    await deletePrefix(redis, prefix);
    await redis.quit();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("lists a live agent and a queued task, and Emergency stop (after confirming) stops the cluster", async () => {
    const now = Date.now();
    await deps.registry.heartbeat(
      {
        name: "pc-2",
        host: "desk-2",
        account: "team",
        specialties: ["backend"],
        concurrency: 1,
        state: "busy",
        tasks: ["octo-org/hello#41"],
        startedAt: now,
        lastSeen: now,
        version: "t",
        session: "ok",
      },
      60,
    );
    await enqueueDirect(deps, { number: 42, title: "Add a CHANGELOG entry for 1.2 <script>alert(1)</script>", cloneUrl: "file:///nowhere" });
    const usage = new UsageStore(redis, prefix);
    for (const [hoursAgo, cost] of [
      [20, 1.2],
      [14, 3.4],
      [9, 2.1],
      [5, 4.8],
      [2, 3.3],
      [0.5, 1.9],
    ] as const) {
      await usage.record({
        at: now - hoursAgo * 3_600_000,
        agent: "pc-2",
        account: "team",
        taskId: "octo-org/hello#41",
        costUsd: cost,
        turns: 12,
        durationMs: 300_000,
        outcome: "success",
        ...(hoursAgo === 20 && { inputTokens: 6_000, outputTokens: 200, resumed: false }),
        ...(hoursAgo === 14 && { inputTokens: 1_500, outputTokens: 90, resumed: true }),
      });
    }
    // One PR merged three hours after it was opened, one closed: merge rate 50 %.
    const fates = new PullRequestFates(redis, prefix);
    const fate = { specialty: "backend", agent: "pc-2", account: "team", openedAt: now - 4 * 3_600_000 };
    await usage.record({
      at: now,
      agent: "pc-2",
      account: "team",
      taskId: "octo-org/hello#40",
      costUsd: 1.5,
      turns: 3,
      durationMs: 60_000,
      outcome: "success",
    });
    await fates.record({ ...fate, pr: "octo-org/hello#140", taskId: "octo-org/hello#40", outcome: "merged", at: now - 3_600_000 }, ["octo-org/hello#40"]);
    await fates.record({ ...fate, pr: "octo-org/hello#139", taskId: "octo-org/hello#39", outcome: "closed", at: now }, []);

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    // The first poll before sign-in answers 401 by design; a script error is what must not happen.
    page.on("console", (message) => message.type() === "error" && !message.text().startsWith("Failed to load resource") && errors.push(message.text()));
    const outside: string[] = [];
    page.on("request", (request) => !request.url().startsWith(app.base) && outside.push(request.url()));

    await page.goto(`${app.base}/dashboard`);
    await page.locator("#token").fill(API_TOKEN);
    await page.locator("#login-form button[type=submit]").click();

    await expect.poll(() => page.locator("#agents tbody").innerText(), { timeout: 10_000 }).toContain("pc-2");
    expect(await page.locator("#agents tbody").innerText()).toContain("octo-org/hello#41");
    const tasks = page.locator("#tasks tbody");
    await expect.poll(() => tasks.innerText()).toContain("octo-org/hello#42");
    expect(await tasks.innerText()).toContain("<script>alert(1)</script>");
    expect(await tasks.locator("a").first().getAttribute("href")).toBe("https://github.com/octo-org/hello/issues/42");
    expect(await page.locator("#queues tbody").innerText()).toMatch(/tasks-general\s+1/);
    expect(await page.locator("#chart polyline").count()).toBe(1);
    const pullRequests = page.locator("#pull-requests tbody");
    for (const by of ["specialty\tbackend", "agent\tpc-2", "account\tteam", "all\t"]) {
      expect(await pullRequests.innerText()).toContain(`${by}\t1\t1\t50%\t$1.50\t3.0h`);
    }
    expect(await page.locator("#mode").innerText()).toBe("running");
    expect(await page.locator("#resumes").innerText()).toBe(
      "Resumed sessions, last 7 d: 1 run; saved 4500 input and 110 output tokens against their tasks' first attempts.",
    );
    // The token lives in this tab's sessionStorage, never in a cookie or the URL.
    expect(await page.evaluate("sessionStorage.getItem('ccc-api-token')")).toBe(API_TOKEN);
    expect(await browser.cookies()).toEqual([]);
    expect(page.url()).not.toContain(API_TOKEN);

    // Cancelling the confirmation changes nothing.
    await page.locator("#stop").click();
    await page.locator("#confirm button[value=cancel]").click();
    expect((await new ClusterControl(redis, prefix).get()).mode).toBe("running");

    await page.locator("#stop").click();
    expect(await page.locator("#confirm-text").innerText()).toContain("abort");
    await page.locator("#confirm-ok").click();
    await waitFor("the cluster to stop", async () => (await new ClusterControl(redis, prefix).get()).mode === "stopped");
    await expect.poll(() => page.locator("#mode").innerText()).toBe("stopped by api (dashboard)");

    // Live updates: a new task appears without a reload.
    await enqueueDirect(deps, { number: 43, title: "Document the retry command", cloneUrl: "file:///nowhere" });
    await expect.poll(() => tasks.innerText(), { timeout: 10_000 }).toContain("octo-org/hello#43");

    mkdirSync(join(REPO_ROOT, "test/.tmp"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
    expect(outside).toEqual([]);
  });

  it("shows a scheduled task's start, what a blocked task waits for, and a budget that holds an account's agents back", async () => {
    // The test above leaves the cluster stopped, which would be what every queued task waits for.
    await new ClusterControl(redis, prefix).resume("test");
    const now = Date.now();
    const registry = new AgentRegistry(redis, prefix);
    const agent = (info: Partial<AgentInfo> & Pick<AgentInfo, "name" | "state">): AgentInfo => ({
      host: "desk-3",
      account: "team",
      specialties: ["backend"],
      concurrency: 1,
      tasks: [],
      startedAt: now,
      lastSeen: now,
      version: "t",
      session: "ok",
      ...info,
    });
    // An idle agent serving general tasks, so the scheduled task waits for its start time only.
    await registry.heartbeat(agent({ name: "pc-4", state: "idle", account: "other" }), 120);

    // Scheduled: queued with a start time two hours from now, as `/claude run in 2h` queues it.
    const notBefore = now + 2 * 3_600_000;
    const scheduled = await claimTestTask(deps, { number: 44, title: "Nightly clean-up", cloneUrl: "file:///nowhere" });
    expect(await deps.store.update(scheduled.taskId, { notBefore }, ["queued"])).toBe(true);
    await deps.queues.add({ ...scheduled, notBefore });
    // Blocked: no live agent serves `frontend`, so the app's reconciler writes why on the record.
    await enqueueDirect(deps, { number: 45, title: "Restyle the login page", specialty: "frontend", cloneUrl: "file:///nowhere" });
    const blocked = await waitFor("the reconciler to explain the frontend task", async () => (await deps.store.get("octo-org/hello#45"))?.blockedBy, 20_000);
    expect(blocked).toContain("no live agent serves `frontend`");

    // A task whose pull request's CI is red and being fixed, as the CI watch publishes it.
    const withPr = await claimTestTask(deps, { number: 46, title: "Add a changelog entry", cloneUrl: "file:///nowhere" });
    const prCi = { state: "fixing" as const, failing: ["unit-tests"], attempts: 1, maxAttempts: 3, conflict: "clean" as const };
    // Its latest run's trace (the record's traceId), linked through CCC_TRACE_URL.
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    expect(await deps.store.update(withPr.taskId, { state: "pr-open", prNumber: 47, prUrl: "https://github.com/octo-org/hello/pull/47", prCi, traceId })).toBe(
      true,
    );

    // Over budget: $45 puts `team` past its $40 per 7 d on its own; the app publishes the gate, and an
    // agent of that account, seeing it, reports itself `over-budget` in its heartbeat.
    await new UsageStore(redis, prefix).record({
      at: now - 3_600_000,
      agent: "pc-2",
      account: "team",
      taskId: "octo-org/hello#41",
      costUsd: 45,
      turns: 30,
      durationMs: 600_000,
      outcome: "success",
    });
    const gate = await waitFor("the app to publish team's spent gate", async () => {
      const found = await new BudgetGates(redis, prefix).get("team", Date.now());
      return found?.level === "spent" ? found : undefined;
    });
    await registry.heartbeat(agent({ name: "pc-3", state: "over-budget", budget: { level: "spent", until: gate.until, message: gate.message } }), 120);

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${app.base}/dashboard`);
    await page.locator("#token").fill(API_TOKEN);
    await page.locator("#login-form button[type=submit]").click();

    const cells = (table: string, row: string) => page.locator(`#${table} tbody tr`).filter({ hasText: row }).locator("td");
    await expect.poll(() => cells("tasks", "octo-org/hello#44").count(), { timeout: 10_000 }).toBe(7);
    expect(await cells("tasks", "octo-org/hello#44").nth(2).innerText()).toBe("scheduled");
    const starts = await page.evaluate((at) => `starts ${new Date(at).toLocaleString()}`, notBefore);
    expect(await cells("tasks", "octo-org/hello#44").nth(6).innerText()).toBe(starts);

    expect(await cells("tasks", "octo-org/hello#45").nth(2).innerText()).toBe("queued");
    expect(await cells("tasks", "octo-org/hello#45").nth(6).innerText()).toBe(`waits: ${blocked}`);
    expect(await cells("tasks", "octo-org/hello#46").nth(6).innerText()).toBe("#47 CI red: unit-tests; Claude is fixing it, attempt 1 of 3 · merges cleanly");
    const trace = cells("tasks", "octo-org/hello#46").nth(0).locator("a", { hasText: "trace 0af76519" });
    expect(await trace.getAttribute("href")).toBe(`https://jaeger.example/trace/${traceId}`);
    expect(await cells("tasks", "octo-org/hello#44").nth(0).innerText()).toBe("octo-org/hello#44");

    const budget = page.locator("#usage tbody tr").filter({ hasText: "team" }).locator(".gate");
    await expect.poll(() => budget.locator(".state").innerText()).toBe("over-budget");
    expect(await budget.getAttribute("title")).toBe(gate.message);
    await expect.poll(() => cells("agents", "pc-3").nth(1).innerText()).toBe("over-budget");
    expect(errors).toEqual([]);
  });

  it("a wrong token brings the sign-in form back with a message", async () => {
    const page = await browser.newPage();
    await page.goto(`${app.base}/dashboard`);
    await page.locator("#token").fill("not-the-token-at-all");
    await page.locator("#login-form button[type=submit]").click();
    await expect.poll(() => page.locator("#login-error").innerText()).toBe("The token was refused.");
    expect(await page.locator("#main").isHidden()).toBe(true);
  });
});
