import { z } from "zod";

// Apart from repo-config.ts: task records name a merge method, and reading one (`ccc status`)
// need not build the whole repository config schema.

/** How GitHub's auto-merge merges a pull request (`merge: auto`). */
export const mergeMethodSchema = z.enum(["merge", "squash", "rebase"]);
export type MergeMethod = z.infer<typeof mergeMethodSchema>;
