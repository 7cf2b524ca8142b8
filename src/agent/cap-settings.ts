import type { TaskData } from "../queue/task-data.js";

/** Permission modes from the most restricted to the least. */
export const PERMISSION_MODES = ["plan", "default", "acceptEdits", "bypassPermissions"] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

/** What the agent's owner allows on this PC, whatever a repository's config asks for. */
export interface SettingsCeiling {
  /** Highest `--permission-mode` a task runs with. */
  maxPermissionMode: PermissionMode;
  /** Tools a task may be given; a task's tool is kept only if one of these covers it. */
  allowedTools: readonly string[];
  /** Models a task may ask for; undefined allows any. */
  models?: readonly string[] | undefined;
}

export type TaskSettings = TaskData["settings"];

/**
 * Pure: the task's settings lowered to the owner's ceiling, with one sentence per thing that
 * was lowered or dropped, for the task record and the tracking comment.
 */
export function capSettings(settings: TaskSettings, ceiling: SettingsCeiling): { settings: TaskSettings; capped: string[] } {
  const capped: string[] = [];
  let permissionMode = settings.permissionMode;
  // An unknown mode ranks above all: it is lowered, never passed on.
  if (modeRank(permissionMode) > modeRank(ceiling.maxPermissionMode)) {
    capped.push(`permission mode ${permissionMode} lowered to ${ceiling.maxPermissionMode} (the agent's --max-permission-mode)`);
    permissionMode = ceiling.maxPermissionMode;
  }
  const allowedTools: string[] = [];
  for (const tool of settings.allowedTools) {
    if (toolAllowed(tool, ceiling.allowedTools)) allowedTools.push(tool);
    else capped.push(`tool ${tool} dropped (not in the agent's --allowed-tools)`);
  }
  const { model, ...rest } = settings;
  let keepModel = model;
  if (model !== undefined && ceiling.models !== undefined && !ceiling.models.includes(model)) {
    capped.push(`model ${model} not allowed on this agent; the CLI's default model is used (--models)`);
    keepModel = undefined;
  }
  return { settings: { ...rest, ...(keepModel !== undefined ? { model: keepModel } : {}), permissionMode, allowedTools }, capped };
}

function modeRank(mode: string): number {
  const rank = (PERMISSION_MODES as readonly string[]).indexOf(mode);
  return rank === -1 ? PERMISSION_MODES.length : rank;
}

/** `Bash(git status:*)` → `{ name: "Bash", rule: "git status:*" }`; `Edit` → `{ name: "Edit" }`. */
function parseTool(tool: string): { name: string; rule?: string } {
  const match = /^([^()]+)\((.*)\)$/s.exec(tool.trim());
  return match ? { name: match[1]!, rule: match[2]! } : { name: tool.trim() };
}

/** Shell operators would let a narrowed-looking rule chain another command after the prefix. */
const SHELL_OPERATORS = /[;&|`$<>\n\r()]/;

/**
 * Allowed if the owner lists the tool exactly, lists its bare name (`Bash` covers
 * `Bash(git status:*)`), or lists a `Bash(prefix:*)` that the task's `Bash(prefix…:*)` narrows.
 */
export function toolAllowed(tool: string, owner: readonly string[]): boolean {
  if (owner.includes(tool)) return true;
  const asked = parseTool(tool);
  for (const entry of owner) {
    const allowed = parseTool(entry);
    if (allowed.name !== asked.name) continue;
    if (allowed.rule === undefined) return true;
    if (asked.rule === undefined || !allowed.rule.endsWith(":*") || !asked.rule.endsWith(":*")) continue;
    const prefix = allowed.rule.slice(0, -2);
    const narrower = asked.rule.slice(0, -2);
    if (narrower.startsWith(prefix) && !SHELL_OPERATORS.test(narrower)) return true;
  }
  return false;
}
