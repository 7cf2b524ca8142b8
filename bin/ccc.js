#!/usr/bin/env node
// Runs the compiled CLI, dist/cli/main.js: what an installed package ships and `npm run build`
// writes. In a checkout (src/ beside dist/) where nothing is built yet or a source file is newer
// than the build, it runs src/ through tsx instead, so a test or a developer never runs stale code.
import { readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
const source = new URL("../src/", import.meta.url);

const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs;

/** The newest modification time of any file under src/ (about 2 ms for the whole tree). */
function newestSource() {
  let newest = 0;
  for (const entry of readdirSync(source, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
  }
  return newest;
}

const built = mtime(compiled);
if (mtime(source) === undefined || (built !== undefined && newestSource() <= built)) {
  if (built === undefined) {
    process.stderr.write(`ccc: ${fileURLToPath(compiled)} is missing; run \`npm run build\` in ${fileURLToPath(new URL("..", import.meta.url))}\n`);
    process.exit(1);
  }
  await import(compiled.href);
} else {
  const tsx = await import("tsx/esm/api").catch(() => undefined);
  if (!tsx) {
    process.stderr.write(
      `ccc: ${fileURLToPath(compiled)} is ${built === undefined ? "missing" : "older than src/"} and tsx is not installed; run \`npm run build\`\n`,
    );
    process.exit(1);
  }
  tsx.register();
  await import("../src/cli/main.ts");
}
