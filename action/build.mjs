#!/usr/bin/env node
// Bundles the action into one ESM file, action/dist/index.js, which is committed: a runner
// runs it as is, without npm install. `--check` builds to a temp file and fails when the
// committed bundle differs from what the sources build (`npm run check:action` in CI).
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const committed = join(root, "action/dist/index.js");
// Started by the bundled Claude runner as a separate process, so it ships beside the bundle.
const GUARD = "claude-guard.mjs";
const check = process.argv.includes("--check");

async function bundle(outfile) {
  await build({
    absWorkingDir: root,
    entryPoints: ["action/src/run.ts"],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    outfile,
    legalComments: "none",
    logLevel: "warning",
    // CommonJS dependencies (pino) call require() for Node built-ins; ESM has no require of its own.
    banner: { js: 'import { createRequire as __cccCreateRequire } from "node:module";\nconst require = __cccCreateRequire(import.meta.url);' },
  });
  await copyFile(join(root, "src/claude", GUARD), join(dirname(outfile), GUARD));
}

if (!check) {
  await bundle(committed);
} else {
  const tmp = await mkdtemp(join(tmpdir(), "ccc-action-dist-"));
  try {
    await bundle(join(tmp, "index.js"));
    for (const name of ["index.js", GUARD]) {
      const [want, have] = await Promise.all([readFile(join(tmp, name), "utf8"), readFile(join(dirname(committed), name), "utf8").catch(() => "")]);
      if (want !== have) {
        process.stderr.write(`action/dist/${name} does not match action/src: run \`npm run build:action\` and commit action/dist.\n`);
        process.exit(1);
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
