import { PRIORITIES, prioritySchema, type Priority } from "../shared/priority.js";
import { specialtySchema } from "../shared/specialty.js";
import { indentWidth, plainTextLines } from "./plain-text-lines.js";

export const COMMAND_NAMES = ["run", "status", "cancel", "retry", "help", "pause", "resume", "stop"] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export type Command =
  | { name: "run"; specialty?: string; priority?: Priority }
  | { name: "status" }
  | { name: "cancel" }
  | { name: "retry" }
  | { name: "help" }
  | { name: "pause" }
  | { name: "resume" }
  | { name: "stop" };

export type ParsedCommand =
  | { kind: "none" }
  | { kind: "command"; command: Command }
  /** `error` says what is wrong, `hint` what would work; both go into the reply. */
  | { kind: "error"; error: string; hint: string };

const RUN_HINT = "try `/claude run backend priority:high` or `/claude help`";

/** Invisible characters someone may paste around a token; stripped, never inside `/claude`. */
const INVISIBLE_EDGES = /^[\u00AD\u180E\u200B-\u200D\u2060\uFEFF]+|[\u00AD\u180E\u200B-\u200D\u2060\uFEFF]+$/g;

/** ASCII only: a fullwidth slash or a lookalike letter is not `/claude`. */
const TRIGGER = /^\/claude$/i;

/**
 * Finds the `/claude …` command in an issue comment. A command is the first line of plain
 * text whose first word is `/claude`; later command lines are ignored, so one comment
 * does one thing. Lines in code, quotes or HTML comments are never commands: people quote
 * and document commands, and that must not run them.
 */
export function parseCommand(body: string): ParsedCommand {
  for (const line of plainTextLines(body)) {
    const args = commandArgs(line);
    if (args) return parseArgs(args);
  }
  return { kind: "none" };
}

/** The words after `/claude`, or undefined when the line is not a command. */
function commandArgs(line: string): string[] | undefined {
  if (indentWidth(line) >= 4) return undefined; // a paragraph continuation rendered mid-line
  const tokens = line
    .split(/\s+/u)
    .map((token) => token.replace(INVISIBLE_EDGES, ""))
    .filter((token) => token !== "");
  if (tokens[0] === undefined || !TRIGGER.test(tokens[0])) return undefined;
  return tokens.slice(1);
}

function parseArgs(args: readonly string[]): ParsedCommand {
  const [sub, ...rest] = args;
  if (sub === undefined) return error("missing subcommand after `/claude`", RUN_HINT);
  const name = COMMAND_NAMES.find((n) => n === sub.toLowerCase());
  if (name === undefined) {
    return error(`unknown subcommand ${quote(sub)}; valid ones are ${COMMAND_NAMES.join(", ")}`, "try `/claude help`");
  }
  if (name === "run") return parseRun(rest);
  if (rest.length > 0) return error(`\`/claude ${name}\` takes no arguments`, `try \`/claude ${name}\` on its own`);
  return { kind: "command", command: { name } };
}

function parseRun(args: readonly string[]): ParsedCommand {
  let specialty: string | undefined;
  let priority: Priority | undefined;
  const priorities = PRIORITIES.join(", ");
  for (const arg of args) {
    const lower = arg.toLowerCase();
    const colon = lower.indexOf(":");
    if (colon !== -1) {
      if (lower.slice(0, colon) !== "priority") {
        return error(`unknown option ${quote(arg)}; \`/claude run\` takes a specialty and \`priority:<${PRIORITIES.join("|")}>\``, RUN_HINT);
      }
      if (priority !== undefined) return error("priority given twice", RUN_HINT);
      const parsed = prioritySchema.safeParse(lower.slice(colon + 1));
      if (!parsed.success) return error(`unknown priority ${quote(arg.slice(colon + 1))}; use one of ${priorities}`, RUN_HINT);
      priority = parsed.data;
      continue;
    }
    // `/claude run high` almost certainly means the priority, not a specialty named "high".
    if (lower === "priority" || PRIORITIES.some((p) => p === lower)) {
      return error(`${quote(arg)} looks like a priority; write it as \`priority:<${PRIORITIES.join("|")}>\``, RUN_HINT);
    }
    const parsed = specialtySchema.safeParse(lower);
    if (!parsed.success) return error(`${quote(arg)} is not a specialty name: ${parsed.error.issues[0]?.message ?? "invalid"}`, RUN_HINT);
    if (specialty !== undefined) {
      return error(`specialty given twice (${quote(specialty)} and ${quote(parsed.data)}); \`/claude run\` takes at most one`, RUN_HINT);
    }
    specialty = parsed.data;
  }
  const command: Command = { name: "run" };
  if (specialty !== undefined) command.specialty = specialty;
  if (priority !== undefined) command.priority = priority;
  return { kind: "command", command };
}

function error(message: string, hint: string): ParsedCommand {
  return { kind: "error", error: message, hint };
}

/**
 * Echoes user text safely in a reply: short, inside a code span so `@mentions` do not
 * notify anyone, and without backticks that would break out of the span.
 */
function quote(text: string): string {
  const clean = text.replace(/`/g, "'");
  return `\`${clean.length > 40 ? `${clean.slice(0, 40)}…` : clean}\``;
}
