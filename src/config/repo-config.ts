import { z } from "zod";
import { prioritySchema } from "../shared/priority.js";
import { specialtySchema } from "../shared/specialty.js";
import { mergeMethodSchema } from "./merge-method.js";

export { mergeMethodSchema, type MergeMethod } from "./merge-method.js";

/** `daemon`: agent daemons (`ccc agent`) take the task; `actions`: the dispatcher runs it on a self-hosted runner. */
export const taskModeSchema = z.enum(["daemon", "actions"]);
export type TaskMode = z.infer<typeof taskModeSchema>;

/** One shell command line, run with `sh -c`: what a CI runner does with a workflow's `run:`. */
const testCommandSchema = z
  .string()
  .trim()
  .min(1, "a command such as npm test")
  .max(1000)
  .refine((command) => !command.includes("\0"), "no NUL character");

const testSettingsSchema = z
  .object(
    {
      /** The command line, e.g. `npm test`. */
      command: testCommandSchema,
      /** Minutes before the command is killed, process tree and all; the run then counts as failing. */
      timeoutMinutes: z.number().int().min(1).max(240).default(10),
      /** How many times Claude gets the failing output to fix it before the push. 0: never. */
      fixAttempts: z.number().int().min(0).max(5).default(1),
    },
    { error: (issue) => (issue.code === "invalid_type" ? "a command line such as npm test, or { command, timeoutMinutes, fixAttempts }" : undefined) },
  )
  .strict();
export type TestSettings = z.infer<typeof testSettingsSchema>;

/** Where a repository keeps its settings for the cluster. */
export const REPO_CONFIG_PATH = ".github/claude-cluster.yml";

export const repoConfigSchema = z
  .object({
    /** Label that hands an issue to Claude; `<label>:<specialty>` also names the specialty. */
    triggerLabel: z.string().min(1).max(50).default("claude"),
    /** Other issue labels that pick a specialty, e.g. `{ ui: frontend, api: backend }`. */
    labels: z.record(z.string().min(1), specialtySchema).default({}),
    /** Words in title or body that vote for a specialty; added to the built-in keyword lists. */
    keywords: z.record(specialtySchema, z.array(z.string().min(1)).max(200)).default({}),
    /** Priority of a task whose trigger does not say one. */
    defaultPriority: prioritySchema.default("normal"),
    /** Claude model passed as `--model`; unset lets the CLI choose. */
    model: z.string().min(1).max(100).optional(),
    /** `--max-turns` for one run. */
    maxTurns: z.number().int().min(1).max(500).default(30),
    /** Minutes before a run is killed, process tree and all. */
    timeoutMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(45),
    /** Open pull requests as drafts. */
    draftPullRequests: z.boolean().default(false),
    /** If non-empty, only these GitHub logins may trigger, on top of the write-permission check. */
    allowedUsers: z.array(z.string().min(1)).default([]),
    /**
     * `--allowedTools` for the CLI. No `Bash(git diff:*)`: `git diff --no-index --output=<path>`
     * writes any file the agent's user can (docs/security.md, "Git on the agent PC").
     */
    allowedTools: z
      .array(z.string().min(1))
      .default(["Bash(git add:*)", "Bash(git commit:*)", "Bash(git status:*)", "Edit", "Write", "Read", "Glob", "Grep", "MultiEdit"]),
    /** `--permission-mode` for the CLI. */
    permissionMode: z.enum(["default", "acceptEdits", "bypassPermissions", "plan"]).default("acceptEdits"),
    /** Extra instructions per specialty, appended to the built-in role in the prompt. */
    roles: z.record(specialtySchema, z.string().max(4000)).default({}),
    /**
     * How many times Claude may try to turn a red CI on one of the cluster's pull requests green
     * by itself, counted since its checks were last green; `0` leaves red checks to people
     * (`/claude fix-ci` still works). Written `ci_fix_attempts` or `ciFixAttempts`.
     */
    ciFixAttempts: z.number().int().min(0).max(10).default(3),
    /**
     * The repository's test command, run by the agent in the worktree after Claude and before the
     * push: `npm test`, or `{ command, timeoutMinutes, fixAttempts }`. Unset: no tests are run.
     */
    test: z.preprocess((value) => (typeof value === "string" ? { command: value } : value), testSettingsSchema).optional(),
    /** `auto`: once the task's own test command passed, GitHub's auto-merge is enabled on its pull request. */
    merge: z.enum(["manual", "auto"]).default("manual"),
    /** How auto-merge merges, when `merge` is `auto`. */
    mergeMethod: mergeMethodSchema.default("merge"),
    /** Who runs this repository's tasks: agent daemons on the team's PCs, or self-hosted Actions runners. */
    mode: taskModeSchema.default("daemon"),
    /** Self-hosted runner mode (docs/self-hosted-runners.md). Read only for specialties in `actions` mode. */
    actions: z
      .object({
        /** Per-specialty exceptions to `mode`, e.g. `{ frontend: daemon }` in a repository whose `mode` is `actions`. */
        modes: z.record(specialtySchema, taskModeSchema).default({}),
        /** File name of the workflow the dispatcher starts, in `.github/workflows/`. */
        workflow: z
          .string()
          .regex(/^[A-Za-z0-9._-]+\.ya?ml$/, "a workflow file name such as claude-agent.yml")
          .default("claude-agent.yml"),
        /** Branch or tag the workflow runs from; unset means the repository's default branch. */
        ref: z.string().min(1).max(250).optional(),
        /** A dispatched workflow whose job has not started within this many minutes is cancelled and its task queued again. */
        dispatchTimeoutMinutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60)
          .default(10),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type RepoConfig = z.infer<typeof repoConfigSchema>;

/** The settings a repository gets with no config file. */
export const DEFAULT_REPO_CONFIG: RepoConfig = repoConfigSchema.parse({});

export interface RepoConfigProblem {
  /** Dotted path of the offending field, or "" for the whole file. */
  field: string;
  message: string;
}

export type RepoConfigResult = { ok: true; config: RepoConfig } | { ok: false; problems: RepoConfigProblem[] };
