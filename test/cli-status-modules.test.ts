import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CCC_BIN } from "./helpers/agent-process.js";
import { randomPrefix, REDIS_URL } from "./helpers/redis.js";

/** Packages that `ccc status`, `ccc agents` and `ccc --help` have no use for, and that cost start-up time. */
const NOT_NEEDED = ["bullmq", "yaml", "@opentelemetry", "probot", "@octokit", "pino"];

/**
 * `ccc <args>` with a module hook (written to `dir` beforehand) that appends the URL of every
 * module Node loads through its ESM loader to `log` (a CommonJS package shows as its entry file).
 */
function cccLoading(dir: string, args: string[], log: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", pathToFileURL(join(dir, "register.mjs")).href, CCC_BIN, ...args],
      { env: { ...process.env, REDIS_URL, CCC_PREFIX: randomPrefix(), MODULE_LOG: log }, timeout: 60_000 },
      (error, stdout) => resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout }),
    );
  });
}

const HOOK = `import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  appendFileSync(process.env.MODULE_LOG, url + "\\n");
  return next(url, context);
}
`;

describe("what `ccc status` loads", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ccc-modules-"));
    await writeFile(join(dir, "hook.mjs"), HOOK);
    await writeFile(
      join(dir, "register.mjs"),
      `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "hook.mjs")).href)});\n`,
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const args of [["status", "--json"], ["agents", "--json"], ["--help"]]) {
    it(`\`ccc ${args.join(" ")}\` answers without loading BullMQ, the YAML parser, OpenTelemetry or Probot`, async () => {
      const log = join(dir, `${args.join("-")}.log`);
      const { code, stdout } = await cccLoading(dir, args, log);
      expect(code).toBe(0);
      if (args[0] === "status") expect(JSON.parse(stdout)).toMatchObject({ agents: 0, tasks: [] });
      const loaded = (await readFile(log, "utf8")).split("\n").filter(Boolean);
      // The hook saw the CLI itself, so an empty list below means something.
      expect(loaded.some((url) => url.endsWith("/cli/main.js") || url.endsWith("/cli/main.ts"))).toBe(true);
      const packages = loaded.flatMap((url) => NOT_NEEDED.filter((name) => url.includes(`/node_modules/${name}/`)));
      expect([...new Set(packages)]).toEqual([]);
      expect(loaded.some((url) => url === pathToFileURL(CCC_BIN).href)).toBe(true);
    }, 60_000);
  }
});
