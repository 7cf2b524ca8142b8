/**
 * What every `ccc` command exits with, so scripts can tell "it did not work" from "I typed it
 * wrong": 0 done, 1 failed (Redis unreachable, no such task, a doctor check failed, a live
 * agent already has the `ccc agent --name`), 2 bad usage (unknown command or option, a missing
 * or malformed argument, flag or variable).
 */
export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
