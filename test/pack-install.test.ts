import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./helpers/agent-process.js";

const run = promisify(execFile);
const { version } = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };

// `npm test` runs vitest from an npm script, whose npm_* variables (npm_config_prefix and the
// like) would steer the npm this test starts; it gets the shell's environment without them.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_")));

describe("the packed agent", () => {
  let tmp: string | undefined;
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("installs from the npm pack tarball with npm install -g and runs ccc from / without the repository", { timeout: 240_000 }, async () => {
    // The tarball takes dist/ as `npm test` built it: rebuilding here (pack's prepare) would
    // rewrite dist/ under the agent processes other test files run from it at the same time.
    expect(existsSync(join(REPO_ROOT, "dist/cli/main.js")), "dist/cli/main.js is missing: run `npm run build`").toBe(true);
    tmp = await mkdtemp(join(tmpdir(), "ccc-pack-"));
    await run("npm", ["pack", "--ignore-scripts", "--pack-destination", tmp], { cwd: REPO_ROOT, env, maxBuffer: 16 << 20 });
    const tarball = join(tmp, `claude-code-cluster-${version}.tgz`);
    const { stdout: listing } = await run("tar", ["tzf", tarball], { maxBuffer: 16 << 20 });
    const packed = listing.split("\n").filter(Boolean);
    expect(packed).toContain("package/dist/cli/main.js");
    expect(packed).toContain("package/dist/claude/claude-guard.mjs");
    expect(packed.filter((path) => path.startsWith("package/src/") || path.endsWith(".map") || path.startsWith("package/test/"))).toEqual([]);

    const prefix = join(tmp, "prefix");
    await run("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", tarball], {
      cwd: tmp,
      env,
      timeout: 220_000,
      maxBuffer: 16 << 20,
    });
    const installed = join(prefix, "lib/node_modules/claude-code-cluster");
    // Development dependencies stay behind: the agent runs compiled JavaScript, not tsx.
    expect(await readdir(join(installed, "node_modules"))).not.toContain("tsx");

    const ccc = join(prefix, "bin/ccc");
    const versionOut = await run(ccc, ["--version"], { cwd: "/", env });
    expect(versionOut.stdout.trim()).toBe(version);
    const agentHelp = await run(ccc, ["agent", "--help"], { cwd: "/", env });
    expect(agentHelp.stdout).toContain("Usage: ccc agent");
    expect(agentHelp.stdout).toContain("--specialties");
    const doctorHelp = await run(ccc, ["doctor", "--help"], { cwd: "/", env });
    expect(doctorHelp.stdout).toContain("Usage: ccc doctor");
    // execFile rejects on a non-zero exit, so reaching here means each exited 0.
  });
});

describe("bin/ccc.js", () => {
  let dir: string;
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A package with bin/ccc.js and, as asked, a dist/ and a src/ that each say which one ran. */
  async function layout(parts: { dist?: boolean; src?: "older" | "newer"; tsx?: boolean }): Promise<string> {
    dir = await mkdtemp(join(tmpdir(), "ccc-bin-"));
    await mkdir(join(dir, "bin"));
    await copyFile(join(REPO_ROOT, "bin/ccc.js"), join(dir, "bin/ccc.js"));
    await writeFile(join(dir, "package.json"), '{ "type": "module" }\n');
    if (parts.dist) {
      await mkdir(join(dir, "dist/cli"), { recursive: true });
      await writeFile(join(dir, "dist/cli/main.js"), 'console.log("compiled");\n');
    }
    if (parts.src) {
      await mkdir(join(dir, "src/cli"), { recursive: true });
      await writeFile(join(dir, "src/cli/main.ts"), 'const from: string = "source";\nconsole.log(from);\n');
      const when = new Date(Date.now() + (parts.src === "newer" ? 60_000 : -60_000));
      await utimes(join(dir, "src/cli/main.ts"), when, when);
    }
    if (parts.tsx) await symlink(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
    return join(dir, "bin/ccc.js");
  }

  const ccc = (bin: string) =>
    run(process.execPath, [bin], { cwd: "/", env }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it("runs dist/ where there is no src/, as in an installed package", async () => {
    expect((await ccc(await layout({ dist: true }))).stdout).toBe("compiled\n");
  });

  it("in a checkout runs dist/ while it is newer than src/, and the source through tsx once a file in src/ is newer", async () => {
    expect((await ccc(await layout({ dist: true, src: "older", tsx: true }))).stdout).toBe("compiled\n");
    await rm(dir, { recursive: true, force: true });
    expect((await ccc(await layout({ dist: true, src: "newer", tsx: true }))).stdout).toBe("source\n");
  });

  it("says in one line to run npm run build, and exits 1, when there is nothing it can run", async () => {
    const missing = await ccc(await layout({}));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^ccc: .*dist\/cli\/main\.js is missing; run `npm run build` in .*\n$/);
    await rm(dir, { recursive: true, force: true });
    const noTsx = await ccc(await layout({ src: "newer" }));
    expect(noTsx.code).toBe(1);
    expect(noTsx.stderr).toMatch(/^ccc: .* is missing and tsx is not installed; run `npm run build`\n$/);
  });
});
