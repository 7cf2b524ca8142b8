import { execFile } from "node:child_process";
import { CCC_BIN } from "./agent-process.js";

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
