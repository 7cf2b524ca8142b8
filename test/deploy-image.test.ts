import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { REPO_ROOT } from "./helpers/agent-process.js";
import { freePort } from "./helpers/app-server.js";
import { API_TOKEN, appProcessEnv } from "./helpers/app-process.js";
import { connectRedis, deletePrefix, randomPrefix } from "./helpers/redis.js";

const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");
const packageJson = JSON.parse(read("package.json")) as { scripts: Record<string, string> };

/** The Dockerfile as stages of [instruction, arguments] lines, continuation lines joined. */
function dockerStages(text: string): Array<{ from: string; lines: Array<[string, string]> }> {
  const stages: Array<{ from: string; lines: Array<[string, string]> }> = [];
  for (const line of text.replace(/\\\n/g, " ").split("\n")) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!match || line.trimStart().startsWith("#")) continue;
    const [, instruction, args] = match as unknown as [string, string, string];
    if (instruction === "FROM") stages.push({ from: args, lines: [] });
    else stages.at(-1)?.lines.push([instruction, args.trim()]);
  }
  return stages;
}

/** Files under `dir`, relative to it. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1));
}

describe("the app's image and the compiled entry points", () => {
  const stages = dockerStages(read("Dockerfile"));
  const build = stages[0]!;
  const runtime = stages.at(-1)!;
  const all = (stage: typeof runtime, instruction: string) => stage.lines.filter(([i]) => i === instruction).map(([, args]) => args);

  it("the Dockerfile builds in one stage and runs what npm start runs, in a slim stage of production dependencies", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(all(build, "RUN").join("\n")).toMatch(/npm ci\b[\s\S]*npm run build/);
    expect(runtime.from).toMatch(/^node:20[\w.-]*slim/);
    const runs = all(runtime, "RUN").join("\n");
    expect(runs).toMatch(/npm ci --omit=dev/);
    expect(runs).not.toMatch(/npm (run build|install)\b/);
    expect(all(runtime, "COPY")).toContain("--from=build /app/dist ./dist");
    expect(all(runtime, "EXPOSE")).toEqual(["3000"]);
    const cmd = JSON.parse(all(runtime, "CMD")[0]!) as string[];
    expect(cmd).toEqual(["node", "dist/app/main.js"]);
    expect(cmd.join(" ")).toBe(packageJson.scripts.start);
  });

  it("the image's process runs as a user other than root", () => {
    const users = all(runtime, "USER");
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    // The USER line comes before CMD, so it applies to the app.
    const order = runtime.lines.map(([i]) => i);
    expect(order.lastIndexOf("USER")).toBeLessThan(order.indexOf("CMD"));
  });

  it(".dockerignore lets in only what the Dockerfile copies, so .env and keys never reach the image", () => {
    const ignore = read(".dockerignore")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"));
    expect(ignore[0]).toBe("*");
    const allowed = ignore.filter((l) => l.startsWith("!")).map((l) => l.slice(1).replace(/\/$/, ""));
    const copied = stages.flatMap((s) => all(s, "COPY")).filter((args) => !args.startsWith("--from"));
    for (const args of copied) for (const source of args.split(/\s+/).slice(0, -1)) expect(allowed, `COPY ${args}`).toContain(source.replace(/\/$/, ""));
    expect(allowed.some((path) => /\.env|\.pem/.test(path))).toBe(false);
  });

  it("docker-compose builds the app from the Dockerfile and installs nothing when the container starts", () => {
    const app = parseYaml(read("docker-compose.yml")).services.app as Record<string, unknown>;
    const context = typeof app.build === "string" ? app.build : (app.build as { context: string }).context;
    expect(context).toBe(".");
    expect(app.command).toBeUndefined();
    expect(app.volumes).toBeUndefined();
    expect(JSON.stringify(app)).not.toMatch(/npm (ci|install)/);
  });

  it("npm run build leaves the compiled entry points and every file the code reads beside itself in dist/", () => {
    // `npm test` builds before vitest runs.
    for (const entry of ["dist/app/main.js", "dist/cli/main.js"]) expect(existsSync(join(REPO_ROOT, entry)), `${entry}: run npm run build`).toBe(true);
    const assets = files(join(REPO_ROOT, "src")).filter((f) => !f.endsWith(".ts"));
    expect(assets).toEqual(expect.arrayContaining(["api/dashboard/index.html", "claude/claude-guard.mjs"]));
    for (const asset of assets) expect(read(join("dist", asset)), asset).toBe(read(join("src", asset)));
    expect(read("bin/ccc.js")).toContain("../dist/cli/main.js");
  });

  it("the compiled app (node dist/app/main.js) starts and serves the dashboard from dist/", async () => {
    const redis = connectRedis();
    const prefix = randomPrefix();
    const port = await freePort();
    const child = spawn(process.execPath, ["dist/app/main.js"], {
      cwd: REPO_ROOT,
      env: appProcessEnv(prefix, port),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 20_000;
      while (
        !(await fetch(`${base}/api/v1/health`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the compiled app did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const headers = { authorization: `Bearer ${API_TOKEN}` };
      for (const [path, file] of [
        ["/dashboard", "index.html"],
        ["/dashboard/dashboard.js", "dashboard.js"],
      ] as const) {
        const response = await fetch(`${base}${path}`, { headers });
        expect(response.status, path).toBe(200);
        expect(await response.text()).toBe(read(join("src/api/dashboard", file)));
      }
    } finally {
      child.kill("SIGTERM");
      await exited;
      await deletePrefix(redis, prefix);
      await redis.quit();
    }
  });
});
