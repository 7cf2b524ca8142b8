import { execFile, spawn } from "node:child_process";
import { CCC_BIN, REPO_ROOT } from "./agent-process.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `ccc <args>` as a process against the test Redis and a cluster's prefix, the way an operator
 * runs it; `bin` runs another build's bin/ccc.js.
 */
export function runCcc(prefix: string, args: string[], env: Record<string, string> = {}, bin = CCC_BIN): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", CCC_PREFIX: prefix, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error && typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : error ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * `ccc <args>` as a process with only PATH, HOME and these settings (no REDIS_URL unless given):
 * for the Redis topologies, where a stray variable would be a wrong setting of its own.
 */
export async function runCccOnly(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CCC_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, stdout, stderr };
}
