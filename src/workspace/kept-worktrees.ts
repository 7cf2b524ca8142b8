import { lstat, mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { KeyedMutex } from "./keyed-mutex.js";

/**
 * A worktree an unfinished task left on this agent, kept so that its next attempt can continue
 * Claude's session in it (`--resume`) instead of starting over.
 */
export interface KeptWorktree {
  taskId: string;
  dir: string;
  branch: string;
  baseSha: string;
  /** Where the branch started when the worktree was made: commits after it are not pushed yet. */
  startSha: string;
  reusedBranch: boolean;
  /** When a run last used it (epoch ms): over the disk limit, the least recently used goes first. */
  usedAt: number;
}

const keptWorktreeSchema = z.object({
  taskId: z.string(),
  dir: z.string(),
  branch: z.string(),
  baseSha: z.string(),
  startSha: z.string(),
  reusedBranch: z.boolean(),
  usedAt: z.number(),
}) satisfies z.ZodType<KeptWorktree>;

const indexSchema = z.object({ version: z.literal(1), worktrees: z.array(keptWorktreeSchema) });

/**
 * The agent's list of kept worktrees, one JSON file in its workdir (`kept-worktrees.json`).
 * One agent process owns a workdir; writes within it are serialised and replace the file whole.
 */
export class KeptWorktrees {
  private readonly lock = new KeyedMutex();

  constructor(readonly file: string) {}

  /** Every kept worktree; an unreadable file reads as none (`problem` says why), so the agent still starts. */
  async list(): Promise<{ worktrees: KeptWorktree[]; problem?: string }> {
    const text = await readFile(this.file, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (text === undefined) return { worktrees: [] };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { worktrees: [], problem: `${this.file} is not JSON` };
    }
    const parsed = indexSchema.safeParse(json);
    if (!parsed.success) return { worktrees: [], problem: `${this.file} does not hold a list of kept worktrees` };
    return { worktrees: parsed.data.worktrees };
  }

  async get(taskId: string): Promise<KeptWorktree | undefined> {
    return (await this.list()).worktrees.find((kept) => kept.taskId === taskId);
  }

  /** Adds or replaces the task's entry. */
  async put(entry: KeptWorktree): Promise<void> {
    await this.change((all) => [...all.filter((kept) => kept.taskId !== entry.taskId), entry]);
  }

  async delete(taskId: string): Promise<void> {
    await this.change((all) => all.filter((kept) => kept.taskId !== taskId));
  }

  private async change(edit: (all: KeptWorktree[]) => KeptWorktree[]): Promise<void> {
    await this.lock.run("index", async () => {
      const next = edit((await this.list()).worktrees);
      await mkdir(dirname(this.file), { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify({ version: 1, worktrees: next }, null, 2)}\n`);
      await rename(temporary, this.file);
    });
  }
}

/**
 * Which kept worktrees to remove so that the rest fit in `limitBytes`: the least recently used
 * first, never one in `busy` (a run is in it now). Pure.
 */
export function worktreesToEvict<T extends KeptWorktree & { bytes: number }>(kept: readonly T[], limitBytes: number, busy: ReadonlySet<string>): T[] {
  let total = kept.reduce((sum, entry) => sum + entry.bytes, 0);
  const evicted: T[] = [];
  for (const entry of [...kept].sort((a, b) => a.usedAt - b.usedAt)) {
    if (total <= limitBytes) break;
    if (busy.has(entry.taskId)) continue;
    evicted.push(entry);
    total -= entry.bytes;
  }
  return evicted;
}

/** Bytes under `dir`, symbolic links not followed; 0 for a directory that is gone. */
export async function directoryBytes(dir: string): Promise<number> {
  const stat = await lstat(dir).catch(() => undefined);
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.size;
  const entries = await readdir(dir).catch(() => [] as string[]);
  let total = stat.size;
  for (const name of entries) total += await directoryBytes(join(dir, name));
  return total;
}
