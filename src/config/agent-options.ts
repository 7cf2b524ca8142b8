import { hostname } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { GENERAL, specialtySchema } from "../shared/specialty.js";
import { ConfigError } from "./env-error.js";
import { sharedEnvSchema } from "./shared-env.js";

export const agentOptionsSchema = sharedEnvSchema.extend({
  /** Name shown on issues and dashboards; unique per agent. */
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1-64 characters of letters, digits, '.', '_' and '-'"),
  /** Specialties this agent serves; it always serves `general` too. */
  specialties: z.array(specialtySchema).default([]),
  /** Tasks run at once. */
  concurrency: z.coerce.number().int().min(1).max(16).default(1),
  /** Holds the git mirrors, worktrees and transcripts. */
  workdir: z.string().min(1),
  /** Claude account this agent logs in with; agents sharing one share its usage limit. */
  account: z.string().regex(/^[A-Za-z0-9._@-]{1,100}$/).default("default"),
  /** The Claude Code CLI. */
  claudeBin: z.string().min(1).default("claude"),
  /** Clone URL template, e.g. `git@github.com:{owner}/{repo}.git` for SSH; unset uses the repository's HTTPS URL. */
  gitUrl: z.string().optional(),
  /** Seconds an agent stays listed after its last heartbeat. */
  heartbeatTtlSeconds: z.coerce.number().int().min(3).max(600).default(30),
  /** BullMQ lock; renewed while the agent lives. After a crash its task is retaken this much later. */
  lockSeconds: z.coerce.number().int().min(2).max(3600).default(60),
  /** Wait after a usage-limit reset before working again (reset times are rounded). */
  usageResetMarginSeconds: z.coerce.number().int().min(0).max(3600).default(60),
});

export type AgentOptions = z.infer<typeof agentOptionsSchema>;

export interface AgentFlags {
  name?: string;
  specialties?: string;
  concurrency?: string;
  workdir?: string;
  account?: string;
}

/** Flags win over the environment (`CCC_AGENT_NAME`, `CCC_SPECIALTIES`, …), which wins over defaults. */
export function readAgentOptions(flags: AgentFlags, env: NodeJS.ProcessEnv = process.env): AgentOptions {
  const name = flags.name ?? env.CCC_AGENT_NAME ?? hostname();
  const specialties = (flags.specialties ?? env.CCC_SPECIALTIES ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "" && s !== GENERAL);
  const parsed = agentOptionsSchema.safeParse({
    ...env,
    name,
    specialties: [...new Set(specialties)],
    concurrency: flags.concurrency ?? env.CCC_CONCURRENCY,
    workdir: flags.workdir ?? env.CCC_WORKDIR ?? join(env.HOME ?? ".", ".ccc", name),
    account: flags.account ?? env.CCC_ACCOUNT,
    claudeBin: env.CLAUDE_BIN,
    gitUrl: env.CCC_GIT_URL,
    heartbeatTtlSeconds: env.CCC_HEARTBEAT_TTL_SECONDS,
    lockSeconds: env.CCC_LOCK_SECONDS,
    usageResetMarginSeconds: env.CCC_USAGE_RESET_MARGIN_SECONDS,
  });
  if (!parsed.success) throw ConfigError.fromZod("The agent's options", parsed.error);
  return parsed.data;
}
