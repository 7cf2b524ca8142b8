import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/**
 * Live (not zombie) fake-claude CLI processes (not their guards) whose working directory lies under one of `roots`:
 * the Claude processes some agents of this test started. Reads /proc, Linux only.
 */
export function liveClaudeProcesses(roots: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      // The guard's command line names the fake too (it is its argument): count the CLI only.
      if (!cmdline.includes("fake-claude") || cmdline.includes("claude-guard")) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (roots.some((root) => cwd.startsWith(root))) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
