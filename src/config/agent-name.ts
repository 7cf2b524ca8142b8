import { z } from "zod";

/**
 * An agent's name, shown on issues and dashboards; unique per agent. Apart from agent-options.ts
 * so that `ccc` checks a `--name` flag without loading the agent's settings.
 */
export const agentNameSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1-64 characters of letters, digits, '.', '_' and '-'");
