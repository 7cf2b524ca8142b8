import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { REPO_ROOT } from "./agent-process.js";

/**
 * This checkout's build run on the queue libraries of the previous release, BullMQ 5 and
 * ioredis 5, installed beside the current ones under the npm alias `bullmq5` (whose own
 * ioredis 5 npm nests under it): the Redis data the previous release wrote, without
 * installing it. A copy of dist/ and bin/ in a scratch folder whose node_modules links every
 * package of the checkout, except `bullmq` and `ioredis`, which link the old majors.
 */
export interface PreviousRelease {
  /** The scratch folder: run processes with it as their working directory. */
  dir: string;
  /** `npm start` of that release: dist/app/main.js. */
  appEntry: string;
  /** Its `ccc`: bin/ccc.js, which runs its dist/ (there is no src/ beside it). */
  cccBin: string;
  /** The BullMQ version it runs, read from the package it loads. */
  bullmqVersion: string;
  ioredisVersion: string;
  remove(): void;
}

export function previousRelease(): PreviousRelease {
  const modules = join(REPO_ROOT, "node_modules");
  const require = createRequire(join(modules, "bullmq5", "package.json"));
  const bullmq = dirname(require.resolve("bullmq5/package.json"));
  // BullMQ 5 depends on ioredis 5; beside the checkout's ioredis 6, npm nests it under bullmq5.
  const ioredis = dirname(createRequire(join(bullmq, "package.json")).resolve("ioredis/package.json"));
  const version = (dir: string) => (require(join(dir, "package.json")) as { version: string }).version;

  const dir = mkdtempSync(join(tmpdir(), "ccc-previous-release-"));
  cpSync(join(REPO_ROOT, "dist"), join(dir, "dist"), { recursive: true });
  cpSync(join(REPO_ROOT, "bin"), join(dir, "bin"), { recursive: true });
  cpSync(join(REPO_ROOT, "package.json"), join(dir, "package.json"));
  mkdirSync(join(dir, "node_modules"));
  for (const name of readdirSync(modules)) {
    if (name === ".bin" || name === "bullmq" || name === "ioredis" || name.startsWith(".")) continue;
    symlinkSync(join(modules, name), join(dir, "node_modules", name));
  }
  symlinkSync(bullmq, join(dir, "node_modules", "bullmq"));
  symlinkSync(ioredis, join(dir, "node_modules", "ioredis"));
  return {
    dir,
    appEntry: join(dir, "dist/app/main.js"),
    cccBin: join(dir, "bin/ccc.js"),
    bullmqVersion: version(bullmq),
    ioredisVersion: version(ioredis),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
