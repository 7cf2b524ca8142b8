#!/usr/bin/env node
// `npm run build`: tsc compiles src/ to dist/, then every other file under src/ (the dashboard's
// html/css/js, claude-guard.mjs: read from disk beside the module that uses them) is copied to
// the same place under dist/. dist/ is not emptied first, because tests and agents in this
// checkout may be running from it; instead, what no longer has a source is deleted afterwards.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const dist = join(root, "dist");

/** Every file under `dir`, as paths relative to it. */
function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
try {
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
} catch {
  process.exit(1);
}

const sources = files(src);
const expected = new Set();
for (const file of sources) {
  if (file.endsWith(".ts")) {
    const js = file.replace(/\.ts$/, ".js");
    expected.add(js).add(`${js}.map`);
  } else {
    mkdirSync(dirname(join(dist, file)), { recursive: true });
    copyFileSync(join(src, file), join(dist, file));
    expected.add(file);
  }
}
for (const file of files(dist)) if (!expected.has(file)) rmSync(join(dist, file));
