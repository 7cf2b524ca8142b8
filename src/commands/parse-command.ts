import { PRIORITIES, prioritySchema, type Priority } from "../shared/priority.js";
import { specialtySchema } from "../shared/specialty.js";
import { indentWidth, plainTextLines, splitLines } from "./plain-text-lines.js";
import { parseSchedule, SCHEDULE_FORMS } from "./parse-schedule.js";

export const COMMAND_NAMES = ["run", "status", "cancel", "retry", "fix-ci", "help", "pause", "resume", "stop"] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export type Command =
  | {
      name: "run";
      specialty?: string;
      priority?: Priority;
      /** Epoch ms before which the task must not start (`at <time>` / `in <duration>`). */
      notBefore?: number;
      /** What the user asked for beyond the issue: the text after the options on a pull request, and the lines below the command. */
      instructions?: string;
      /** `--force`: start even though the issue is blocked by open issues (or in a dependency cycle). */
      force?: boolean;
    }
  | { name: "status" }
  | { name: "cancel" }
  | { name: "retry"; instructions?: string }
  /** On a pull request: have Claude fix the head commit's failing checks, whoever pushed it. */
  | { name: "fix-ci"; instructions?: string }
  | { name: "help" }
  | { name: "pause" }
  | { name: "resume" }
  | { name: "stop" };

export type ParsedCommand =
  | { kind: "none" }
  | { kind: "command"; command: Command }
  /** `error` says what is wrong, `hint` what would work; both go into the reply. */
  | { kind: "error"; error: string; hint: string };

const RUN_HINT = "try `/claude run backend priority:high`, `/claude run in 2h` or `/claude help`";
const PR_RUN_HINT = "try `/claude run fix the failing test` or `/claude help`";

export interface ParseOptions {
  /**
   * Where the comment is. On a pull request the words after `/claude run` and its options are
   * instructions; on an issue they name a specialty. @defaultValue "issue"
   */
  target?: "issue" | "pull-request";
  /** The time `at <time>` and `in <duration>` count from. @defaultValue Date.now() */
  now?: number;
}

/** Invisible characters someone may paste around a token; stripped, never inside `/claude`. */
const INVISIBLE_EDGES = /^[\u00AD\u180E\u200B-\u200D\u2060\uFEFF]+|[\u00AD\u180E\u200B-\u200D\u2060\uFEFF]+$/g;

/** ASCII only: a fullwidth slash or a lookalike letter is not `/claude`. */
const TRIGGER = /^\/claude$/i;

/**
 * Finds the `/claude …` command in an issue or pull request comment (or a review's body). A
 * command is the first line of plain text whose first word is `/claude`; later command lines
 * are ignored, so one comment does one thing. Lines in code, quotes or HTML comments are never
 * commands: people quote and document commands, and that must not run them. The lines below
 * the command are instructions for `run` and `retry`.
 */
export function parseCommand(body: string, options: ParseOptions = {}): ParsedCommand {
  for (const line of plainTextLines(body)) {
    const args = commandArgs(line.text);
    if (!args) continue;
    // Everything below the command line is the user's own words for Claude, kept as written.
    const below = splitLines(body)
      .slice(line.index + 1)
      .join("\n")
      .trim();
    return parseArgs(args, below, { target: options.target ?? "issue", now: options.now ?? Date.now() });
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

function parseArgs(args: readonly string[], below: string, options: Required<ParseOptions>): ParsedCommand {
  const [sub, ...rest] = args;
  if (sub === undefined) return error("missing subcommand after `/claude`", RUN_HINT);
  const name = COMMAND_NAMES.find((n) => n === sub.toLowerCase());
  if (name === undefined) {
    return error(`unknown subcommand ${quote(sub)}; valid ones are ${COMMAND_NAMES.join(", ")}`, "try `/claude help`");
  }
  if (name === "run") return parseRun(rest, below, options);
  if (rest.length > 0) return error(`\`/claude ${name}\` takes no arguments`, `try \`/claude ${name}\` on its own`);
  if (name === "fix-ci" && options.target !== "pull-request") {
    return error(
      "`/claude fix-ci` works on a pull request: it fixes the failing checks of its head commit",
      "comment it on the pull request, or use `/claude run` here",
    );
  }
  if ((name === "retry" || name === "fix-ci") && below !== "") return { kind: "command", command: { name, instructions: below } };
  return { kind: "command", command: { name } };
}

function parseRun(args: readonly string[], below: string, options: Required<ParseOptions>): ParsedCommand {
  const onPullRequest = options.target === "pull-request";
  const hint = onPullRequest ? PR_RUN_HINT : RUN_HINT;
  let specialty: string | undefined;
  let priority: Priority | undefined;
  let notBefore: number | undefined;
  let force = false;
  let sameLine: string[] = [];
  const priorities = PRIORITIES.join(", ");
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const lower = arg.toLowerCase();
    if (lower === "at" || lower === "in") {
      const schedule = parseSchedule(lower, args.slice(i + 1), options.now);
      // On a pull request "in" and "at" also start ordinary sentences: only a valid time is an option.
      if (schedule.kind === "error" && onPullRequest) {
        sameLine = args.slice(i);
        break;
      }
      if (schedule.kind === "error") return error(schedule.error, `write a time as ${SCHEDULE_FORMS}`);
      if (notBefore !== undefined) return error("the start time is given twice", hint);
      notBefore = schedule.at;
      i += schedule.tokens;
      continue;
    }
    // A pull request's task waits for no issue: there the word is the user's instructions.
    if (lower === "--force" && !onPullRequest) {
      if (force) return error("`--force` given twice", hint);
      force = true;
      continue;
    }
    if (lower.startsWith("-") && !onPullRequest) return error(`unknown option ${quote(arg)}; the only flag is \`--force\``, hint);
    if (onPullRequest && !lower.startsWith("priority:")) {
      sameLine = args.slice(i);
      break;
    }
    const colon = lower.indexOf(":");
    if (colon !== -1) {
      if (lower.slice(0, colon) !== "priority") {
        return error(`unknown option ${quote(arg)}; \`/claude run\` takes a specialty and \`priority:<${PRIORITIES.join("|")}>\``, hint);
      }
      if (priority !== undefined) return error("priority given twice", hint);
      const parsed = prioritySchema.safeParse(lower.slice(colon + 1));
      if (!parsed.success) return error(`unknown priority ${quote(arg.slice(colon + 1))}; use one of ${priorities}`, hint);
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
  if (notBefore !== undefined) command.notBefore = notBefore;
  if (force) command.force = true;
  const instructions = [sameLine.join(" "), below].filter((part) => part !== "").join("\n\n");
  if (instructions !== "") command.instructions = instructions;
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
