import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { Workspace } from "../src/workspace/workspace.js";

/**
 * Workspace.prepare on a warm mirror against what a task would cost without one: a fresh
 * `git clone`. Both measured in this run on the same generated repository, reported as a ratio.
 */
export async function benchWorkspace(options: { commits?: number } = {}): Promise<{ name: string; lines: string[] }> {
  const commits = Math.max(options.commits ?? 20_000, 1);
  const tmp = await mkdtemp(join(tmpdir(), "ccc-bench-workspace-"));
  try {
    const origin = join(tmp, "origin.git");
    const url = pathToFileURL(origin).href;
    await execa("git", ["init", "--quiet", "--bare", "--initial-branch=main", origin]);
    let started = performance.now();
    await fastImport(origin, history(commits));
    // Repack as a hosting server would: fast-import stores each new version as a delta of the
    // previous one, the opposite of the newest-first chains real repositories are served from.
    await execa("git", ["repack", "-adfq"], { cwd: origin });
    const generatedMs = performance.now() - started;
    const packMb = (await dirSize(join(origin, "objects", "pack"))) / 1e6;

    // (a) What a task would pay without a mirror: a real clone (file://, so no hardlinks) with checkout.
    const cloneMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const dest = join(tmp, `clone-${i}`);
      await settle();
      started = performance.now();
      await execa("git", ["clone", "--quiet", url, dest]);
      cloneMs.push(performance.now() - started);
      await rm(dest, { recursive: true, force: true });
    }

    // (b) Warm mirror: the first prepare clones it and is not counted. Before each measured one,
    // origin gets a new commit on main, so every fetch has something to fetch, as between real tasks.
    const workspace = new Workspace({ root: join(tmp, "root") });
    const input = { owner: "bench", repo: "big", cloneUrl: url, baseBranch: "main" };
    await workspace.remove(await workspace.prepare({ ...input, branch: "claude/issue-0-warm-up", taskKey: "warm-up" }));
    const prepareMs: number[] = [];
    const fetchMs: number[] = [];
    const worktreeMs: number[] = [];
    const removeMs: number[] = [];
    for (let i = 1; i <= 10; i++) {
      await fastImport(origin, followUp(commits + i));
      await settle();
      started = performance.now();
      const prepared = await workspace.prepare({ ...input, branch: `claude/issue-${i}-bench`, taskKey: `bench-${i}` });
      prepareMs.push(performance.now() - started);
      fetchMs.push(prepared.timings.mirrorMs);
      worktreeMs.push(prepared.timings.worktreeMs);
      await settle();
      started = performance.now();
      await workspace.remove(prepared);
      removeMs.push(performance.now() - started);
    }

    const clone = median(cloneMs);
    const prepare = median(prepareMs);
    const gitVersion = (await execa("git", ["--version"])).stdout.replace("git version ", "");
    return {
      name: "workspace",
      lines: [
        `repository: ${commits.toLocaleString("en")} commits, ${FILES} files, ${packMb.toFixed(1)} MB packed (generated with fast-import in ${seconds(generatedMs)})`,
        `fresh clone (file:// URL, full checkout), median of 3: ${ms(clone)}  [${cloneMs.map(ms).join(", ")}]`,
        `prepare on a warm mirror (fetch of 1 new commit + worktree add + checkout), median of 10: ${ms(prepare)}` +
          `  (fetch ${ms(median(fetchMs))}, worktree ${ms(median(worktreeMs))})`,
        `remove (worktree remove + branch -D + prune), median of 10: ${ms(median(removeMs))}`,
        `clone / prepare: ${(clone / prepare).toFixed(1)}x (target ≥ 20x: ${clone / prepare >= 20 ? "PASS" : "MISS"})`,
        "note: a file:// clone moves no bytes over a network; a real remote adds the whole pack's transfer to the clone, only the new objects to the fetch",
        `machine: ${cpus().length} cores, git ${gitVersion}, node ${process.version}, ${process.platform}; wall-clock, same run, same disk`,
      ],
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

const FILES = 400;
const LINES_PER_FILE = 30;
const COMMITTER = "Bench <bench@example.invalid>";
const EPOCH = 1_700_000_000;

/** A file's text at some revision: source-like lines, one of which changes per revision, so history deltas well. */
function fileContent(file: number, revision: number): string {
  const lines: string[] = [];
  for (let line = 0; line < LINES_PER_FILE; line++) {
    const changed = line === revision % LINES_PER_FILE ? ` // revision ${revision}` : "";
    lines.push(`export const value_${file}_${line} = computeSomething(${file * line}, "module ${file}");${changed}`);
  }
  return `${lines.join("\n")}\n`;
}

function filePath(file: number): string {
  return `src/pkg${file % 20}/module-${file}.ts`;
}

function data(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}\n`;
}

function commitHeader(n: number, message: string): string {
  return `commit refs/heads/main\ncommitter ${COMMITTER} ${EPOCH + n * 60} +0000\n${data(message)}`;
}

/** fast-import stream: one commit adding every file, then commits touching 3 files each. */
function* history(commits: number): Generator<string> {
  let first = commitHeader(0, "Initial import");
  for (let f = 0; f < FILES; f++) first += `M 100644 inline ${filePath(f)}\n${data(fileContent(f, 0))}`;
  yield first;
  for (let n = 1; n < commits; n++) {
    let chunk = commitHeader(n, `Change ${n}`);
    for (let k = 0; k < 3; k++) {
      const file = (n * 7 + k * 131) % FILES;
      chunk += `M 100644 inline ${filePath(file)}\n${data(fileContent(file, n))}`;
    }
    yield chunk;
  }
}

/** One more commit on top of main, as if someone merged a PR between two tasks. */
function* followUp(n: number): Generator<string> {
  yield `${commitHeader(n, `Change ${n}`)}from refs/heads/main^0\nM 100644 inline ${filePath(n % FILES)}\n${data(fileContent(n % FILES, n))}`;
}

async function fastImport(repo: string, stream: Iterable<string>): Promise<void> {
  const child = execa("git", ["fast-import", "--quiet"], { cwd: repo, stdin: "pipe" });
  const stdin = child.stdin;
  let batch = "";
  for (const chunk of stream) {
    batch += chunk;
    if (batch.length > 1 << 20) {
      // Respect backpressure: 20,000 commits is ~60 MB of stream.
      if (!stdin.write(batch)) await new Promise((resolve) => stdin.once("drain", resolve));
      batch = "";
    }
  }
  stdin.end(batch);
  await child;
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

/**
 * Flushes dirty pages before each timed step. Generating the repository, cloning and deleting
 * leave tens of MB in writeback, and on a small VM that stalls the next step's file writes
 * unpredictably (a 400-file checkout measured anywhere from 10 to 700 ms without this).
 */
async function settle(): Promise<void> {
  await execa("sync");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

function seconds(value: number): string {
  return `${(value / 1000).toFixed(1)} s`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const commits = process.argv[2] ? Number(process.argv[2]) : undefined;
  const result = await benchWorkspace({ commits });
  console.log(`# ${result.name}\n${result.lines.join("\n")}`);
}
