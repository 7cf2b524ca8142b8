import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { GENERAL, specialtySchema } from "../shared/specialty.js";
import { agentNameSchema } from "./agent-name.js";
import { loadDotEnv } from "./dotenv.js";
import { ConfigError } from "./env-error.js";
import { DEFAULT_REPO_CONFIG } from "./repo-config.js";
import { clusterKeyPrefix, sharedEnvSchema } from "./shared-env.js";

/** Numbers come as text from flags and variables; the message gives the range. */
function wholeNumber(min: number, max: number) {
  const error = `a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

export const agentOptionsSchema = sharedEnvSchema.extend({
  /** Name shown on issues and dashboards; unique per agent. */
  name: agentNameSchema,
  /** Specialties this agent serves; it always serves `general` too. */
  specialties: z.array(specialtySchema).default([]),
  /** Tasks run at once. */
  concurrency: wholeNumber(1, 16).default(1),
  /** Holds the git mirrors, worktrees and transcripts. */
  workdir: z.string().min(1),
  /** Claude account this agent logs in with; agents sharing one share its usage limit. */
  account: z
    .string()
    .regex(/^[A-Za-z0-9._@-]{1,100}$/, "1-100 characters of letters, digits, '.', '_', '@' and '-'")
    .default("default"),
  /** The Claude Code CLI. */
  claudeBin: z.string().min(1).default("claude"),
  /** Clone URL template, e.g. `git@github.com:{owner}/{repo}.git` for SSH; unset uses the repository's HTTPS URL. */
  gitUrl: z.string().optional(),
  /** Seconds an agent stays listed after its last heartbeat. */
  heartbeatTtlSeconds: wholeNumber(3, 600).default(30),
  /** BullMQ lock; renewed while the agent lives. After a crash its task is retaken at most this plus 10 s later. */
  lockSeconds: wholeNumber(2, 3600).default(30),
  /** Wait after a usage-limit reset before working again (reset times are rounded). */
  usageResetMarginSeconds: wholeNumber(0, 3600).default(60),
  /** How long git failing to reach a task's repository (GitHub or the network down) is waited out, at the fetch before a run and at the push after it, before the attempt counts as failed. */
  gitRetryMinutes: wholeNumber(0, 1440).default(15),
  /**
   * Disk the worktrees of unfinished tasks, kept for a resumed session, may take together (MiB);
   * over it the least recently used is removed. 0 keeps none: every retry starts Claude afresh.
   */
  keepWorktreesMb: wholeNumber(0, 1_048_576).default(2048),
  /** Highest `--permission-mode` any task runs with here, whatever its repository asks (plan < default < acceptEdits < bypassPermissions). */
  maxPermissionMode: z.enum(["plan", "default", "acceptEdits", "bypassPermissions"]).default("acceptEdits"),
  /** Tools a task may be given here; a repository's other tools are dropped. Defaults to the repository config's default list. */
  allowedTools: z
    .array(z.string().min(1).max(200))
    .min(1, "at least one tool")
    .default([...DEFAULT_REPO_CONFIG.allowedTools]),
  /** Models a task may ask for here; another model runs as the CLI's default. Unset allows any. */
  models: z
    .array(z.string().regex(/^[A-Za-z0-9._:@/-]{1,100}$/, "model names of letters, digits, '.', '_', ':', '@', '/' and '-'"))
    .min(1)
    .optional(),
  /** Owners (`octo`) or repositories (`octo/hello`) whose tasks this agent takes. Unset serves all. */
  repos: z
    .array(z.string().regex(/^[A-Za-z0-9_.-]{1,100}(\/[A-Za-z0-9_.-]{1,100})?$/, "entries such as octo or octo/hello"))
    .min(1)
    .optional(),
  /**
   * Whether a repository's test command (`test:` in its config) runs on this PC before the push.
   * `refuse`: never; the pull request then says the agent's owner does not allow it.
   */
  testCommands: z.enum(["allow", "refuse"]).default("allow"),
});

export type AgentOptions = z.infer<typeof agentOptionsSchema>;

export interface AgentFlags {
  name?: string;
  specialties?: string;
  concurrency?: string;
  workdir?: string;
  account?: string;
  maxPermissionMode?: string;
  allowedTools?: string;
  models?: string;
  repos?: string;
  keepWorktreesMb?: string;
  testCommands?: string;
}

/** Where each option can come from, to name the one that is wrong. */
const SOURCES: Partial<Record<keyof AgentOptions, { flag?: keyof AgentFlags; env: string }>> = {
  name: { flag: "name", env: "CCC_AGENT_NAME" },
  specialties: { flag: "specialties", env: "CCC_SPECIALTIES" },
  concurrency: { flag: "concurrency", env: "CCC_CONCURRENCY" },
  workdir: { flag: "workdir", env: "CCC_WORKDIR" },
  account: { flag: "account", env: "CCC_ACCOUNT" },
  claudeBin: { env: "CLAUDE_BIN" },
  gitUrl: { env: "CCC_GIT_URL" },
  heartbeatTtlSeconds: { env: "CCC_HEARTBEAT_TTL_SECONDS" },
  lockSeconds: { env: "CCC_LOCK_SECONDS" },
  usageResetMarginSeconds: { env: "CCC_USAGE_RESET_MARGIN_SECONDS" },
  gitRetryMinutes: { env: "CCC_GIT_RETRY_MINUTES" },
  maxPermissionMode: { flag: "maxPermissionMode", env: "CCC_MAX_PERMISSION_MODE" },
  allowedTools: { flag: "allowedTools", env: "CCC_ALLOWED_TOOLS" },
  models: { flag: "models", env: "CCC_MODELS" },
  repos: { flag: "repos", env: "CCC_REPOS" },
  keepWorktreesMb: { flag: "keepWorktreesMb", env: "CCC_KEEP_WORKTREES_MB" },
  testCommands: { flag: "testCommands", env: "CCC_TEST_COMMANDS" },
};

/** Commander names `--max-permission-mode` `maxPermissionMode`; the message shows the flag as typed. */
const FLAG_NAMES: Partial<Record<keyof AgentFlags, string>> = {
  maxPermissionMode: "max-permission-mode",
  allowedTools: "allowed-tools",
  keepWorktreesMb: "keep-worktrees-mb",
  testCommands: "test-commands",
};

/** `a, b,,c` → `["a", "b", "c"]`; nothing given, or only commas, → undefined (the default). */
function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = [
    ...new Set(
      text
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    ),
  ];
  return items.length > 0 ? items : undefined;
}

/** `--concurrency` when the flag was given, `CCC_CONCURRENCY` when the value came from there. */
function sourceOf(field: PropertyKey | undefined, flags: AgentFlags): string {
  const source = SOURCES[field as keyof AgentOptions];
  if (!source) return field === undefined ? "the agent's options" : String(field);
  return source.flag && flags[source.flag] !== undefined ? `--${FLAG_NAMES[source.flag] ?? source.flag}` : source.env;
}

function agentName(flags: AgentFlags, env: NodeJS.ProcessEnv): string {
  return flags.name ?? env.CCC_AGENT_NAME ?? hostname();
}

/** `--workdir`, `CCC_WORKDIR`, or `~/.ccc/<name>`: worktrees, mirrors, transcripts and `agent.env`. */
export function agentWorkdir(flags: AgentFlags, env: NodeJS.ProcessEnv): string {
  return flags.workdir ?? env.CCC_WORKDIR ?? join(env.HOME ?? ".", ".ccc", agentName(flags, env));
}

export const AGENT_ENV_FILE = "agent.env";

/**
 * Reads the agent owner's settings file, `<workdir>/agent.env` (dotenv format:
 * `CCC_TASK_SECRET`, `CCC_MAX_PERMISSION_MODE`, `CCC_REPOS`, `CCC_CLAUDE_ENV_PASS`, …), into
 * `env` in place, so every part of the agent sees it: the shell wins over the file, and flags
 * over both. Returns the file's path when there was one.
 */
export function loadAgentEnvFile(flags: AgentFlags, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = join(agentWorkdir(flags, env), AGENT_ENV_FILE);
  if (!existsSync(file)) return undefined;
  loadDotEnv(file, env);
  return file;
}

/**
 * Flags win over the environment (`CCC_AGENT_NAME`, `CCC_SPECIALTIES`, …), which wins over defaults.
 * A wrong value throws a ConfigError of one line that names the flag or variable it came from.
 */
export function readAgentOptions(flags: AgentFlags, env: NodeJS.ProcessEnv = process.env): AgentOptions {
  const name = agentName(flags, env);
  const specialties = (flags.specialties ?? env.CCC_SPECIALTIES ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "" && s !== GENERAL);
  const parsed = agentOptionsSchema.safeParse({
    ...env,
    name,
    specialties: [...new Set(specialties)],
    concurrency: flags.concurrency ?? env.CCC_CONCURRENCY,
    workdir: agentWorkdir(flags, env),
    account: flags.account ?? env.CCC_ACCOUNT,
    claudeBin: env.CLAUDE_BIN,
    gitUrl: env.CCC_GIT_URL,
    heartbeatTtlSeconds: env.CCC_HEARTBEAT_TTL_SECONDS,
    lockSeconds: env.CCC_LOCK_SECONDS,
    usageResetMarginSeconds: env.CCC_USAGE_RESET_MARGIN_SECONDS,
    gitRetryMinutes: env.CCC_GIT_RETRY_MINUTES,
    maxPermissionMode: flags.maxPermissionMode ?? env.CCC_MAX_PERMISSION_MODE,
    allowedTools: list(flags.allowedTools ?? env.CCC_ALLOWED_TOOLS),
    models: list(flags.models ?? env.CCC_MODELS),
    repos: list(flags.repos ?? env.CCC_REPOS),
    keepWorktreesMb: flags.keepWorktreesMb ?? env.CCC_KEEP_WORKTREES_MB,
    testCommands: flags.testCommands ?? env.CCC_TEST_COMMANDS,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${sourceOf(issue.path[0], flags)} is not valid: ${issue.message}`);
    throw new ConfigError(`${[...new Set(problems)].join("; ")}.`);
  }
  return clusterKeyPrefix(parsed.data, env);
}
