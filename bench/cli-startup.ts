import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ms, summarise, verdict, type Summary } from "./stats.js";

const ROOT = resolve(import.meta.dirname, "..");
/** Compiled `ccc --help` may cost at most this much more than starting Node at all (p50). */
const OVERHEAD_TARGET_MS = 100;

interface Variant {
  label: string;
  args: string[];
  env?: Record<string, string>;
}

/**
 * Start-up of `ccc --help`: wall time from spawn to exit, for the compiled CLI against a bare
 * `node -e 0` measured in the same run (and, for comparison, the TypeScript source through tsx,
 * as bin/ccc.js ran it before the build). Rounds interleave the variants, so a change in the
 * machine's load touches all of them alike; the first round warms the file cache and is dropped.
 */
export async function benchCliStartup(options: { rounds?: number } = {}): Promise<{ name: string; lines: string[] }> {
  const rounds = Math.max(options.rounds ?? 20, 2);
  if (!existsSync(join(ROOT, "dist/cli/main.js")))
    return { name: "cli-startup", lines: ["skipped: dist/cli/main.js is missing; run `npm run build` (npm run bench does)"] };
  const variants: Variant[] = [
    { label: "node -e 0 (baseline)", args: ["-e", "0"] },
    { label: "ccc --help, compiled (node dist/cli/main.js, what an installed ccc runs)", args: ["dist/cli/main.js", "--help"] },
    {
      label: "ccc --help from source (node --import tsx src/cli/main.ts, what bin/ccc.js ran before the build)",
      args: ["--import", "tsx", "src/cli/main.ts", "--help"],
    },
  ];
  // With src/ newer than dist/, bin/ccc.js runs the source through tsx: its figure would be the tsx one.
  const fresh = newestSource() <= statSync(join(ROOT, "dist/cli/main.js")).mtimeMs;
  if (fresh)
    variants.push({
      label: "ccc --help in this checkout (node bin/ccc.js, which first checks src/ for files newer than dist/)",
      args: ["bin/ccc.js", "--help"],
    });
  // A command that connects: Redis at REDIS_URL (127.0.0.1:6379 by default), a prefix with nothing under it.
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const status: Variant = {
    label: `ccc status --json, compiled (node dist/cli/main.js; Redis at ${redisUrl}, an empty cluster)`,
    args: ["dist/cli/main.js", "status", "--json"],
    env: { REDIS_URL: redisUrl, CCC_PREFIX: `ccc-bench-startup-${process.pid}` },
  };
  variants.push(status);
  const samples = variants.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    variants.forEach((variant, i) => {
      const started = performance.now();
      const result = spawnSync(process.execPath, variant.args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...variant.env } });
      const elapsed = performance.now() - started;
      if (result.status !== 0) throw new Error(`${variant.label} exited ${result.status}: ${result.stderr.toString()}`);
      if (round > 0) samples[i]!.push(elapsed);
    });
  }
  const summaries = samples.map(summarise);
  const [base, compiled, source] = summaries as [Summary, Summary, Summary];
  const overhead = compiled.p50 - base.p50;
  const statusP50 = summaries[variants.indexOf(status)]!.p50;
  return {
    name: "cli-startup",
    lines: [
      `${rounds - 1} rounds after one warm-up, variants interleaved; wall time from spawnSync to exit, stdout piped`,
      ...variants.map((v, i) => `${v.label}: p50 ${ms(summaries[i]!.p50)}, max ${ms(summaries[i]!.max)}`),
      ...(fresh ? [] : ["bin/ccc.js not measured: src/ has files newer than dist/, so it would run the source through tsx; run `npm run build`"]),
      `compiled ccc --help costs ${ms(overhead)} over starting Node (p50)  (target < ${OVERHEAD_TARGET_MS} ms)  ${verdict(overhead < OVERHEAD_TARGET_MS)}`,
      `compiled ccc status --json (start-up, connection and the reads) costs ${ms(statusP50 - base.p50)} over starting Node (p50); ${ms(statusP50)} in all  (target < 1000 ms with 100,000 queued: bench/backlog.ts)`,
      `from source through tsx it cost ${ms(source.p50 - base.p50)} over starting Node: compiled is ${(source.p50 / compiled.p50).toFixed(1)}× faster end to end`,
    ],
  };
}

/** The newest modification time of any file under src/, as bin/ccc.js computes it. */
function newestSource(): number {
  let newest = 0;
  for (const entry of readdirSync(join(ROOT, "src"), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rounds = process.argv[2] ? Number(process.argv[2]) : undefined;
  const result = await benchCliStartup({ rounds });
  console.log(`# ${result.name}\n${result.lines.join("\n")}`);
}
