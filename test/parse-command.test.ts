import { describe, expect, it } from "vitest";
import { HELP_TEXT } from "../src/commands/help-text.js";
import { COMMAND_NAMES, parseCommand, type Command } from "../src/commands/parse-command.js";

const BIG = 65_536;
const filler = (length: number): string => "lorem ipsum dolor sit amet\n".repeat(Math.ceil(length / 27)).slice(0, length);

describe("parseCommand finds the command", () => {
  it.each<[string, string, Command]>([
    ["a bare run", "/claude run", { name: "run" }],
    ["run with a specialty", "/claude run frontend", { name: "run", specialty: "frontend" }],
    ["run with a priority", "/claude run priority:urgent", { name: "run", priority: "urgent" }],
    ["run with both", "/claude run backend priority:high", { name: "run", specialty: "backend", priority: "high" }],
    ["run with priority before specialty", "/claude run priority:low docs", { name: "run", specialty: "docs", priority: "low" }],
    ["a specialty the repo defines itself", "/claude run data-eng", { name: "run", specialty: "data-eng" }],
    ["the general specialty", "/claude run general", { name: "run", specialty: "general" }],
    ["any case, normalised to lowercase", "/CLAUDE RUN Frontend Priority:HIGH", { name: "run", specialty: "frontend", priority: "high" }],
    ["run --force", "/claude run --force", { name: "run", force: true }],
    ["--force among the options, any case", "/claude run backend --FORCE priority:high", { name: "run", specialty: "backend", priority: "high", force: true }],
    ["status", "/claude status", { name: "status" }],
    ["cancel", "/claude cancel", { name: "cancel" }],
    ["retry", "/claude retry", { name: "retry" }],
    ["help", "/claude help", { name: "help" }],
    ["pause", "/claude pause", { name: "pause" }],
    ["resume", "/claude resume", { name: "resume" }],
    ["stop", "/claude stop", { name: "stop" }],
    ["extra spaces and tabs between words", "/claude \t run   frontend\t", { name: "run", specialty: "frontend" }],
    ["up to three spaces of indentation", "   /claude status", { name: "status" }],
    ["after ordinary text lines", "Thanks for the report.\nLet's try it.\n/claude run backend", { name: "run", specialty: "backend" }],
    [
      "followed by instructions",
      "/claude run docs\nPlease keep the README short.",
      { name: "run", specialty: "docs", instructions: "Please keep the README short." },
    ],
    ["Windows line endings", "hello\r\n/claude run testing\r\nbye\r\n", { name: "run", specialty: "testing", instructions: "bye" }],
    ["old Mac line endings", "hello\r/claude retry\r", { name: "retry" }],
    ["several commands: the first wins", "/claude status\n/claude cancel", { name: "status" }],
    ["a quoted command before a real one", "> /claude stop\n\n/claude status", { name: "status" }],
    ["after a closed code block", "```\n/claude stop\n```\n/claude status", { name: "status" }],
    ["after a closed tilde block", "~~~sh\n/claude stop\n~~~\n/claude help", { name: "help" }],
    ["after an HTML comment closes", "<!--\n/claude stop\n-->\n/claude help", { name: "help" }],
    ["after an inline code span closes on a later line", "see `x\ny` here\n/claude help", { name: "help" }],
    ["after an HTML comment opener shown in inline code", "write `<!--` to hide text\n/claude help", { name: "help" }],
    ["when a lone backtick is just text", "it's a ` char\n/claude help", { name: "help" }],
    ["right after a blockquote, without a blank line", "> quoted\n/claude status", { name: "status" }],
    ["zero-width characters around words", "\u200B/claude\u200B run\u2060 frontend\uFEFF", { name: "run", specialty: "frontend" }],
    ["a non-breaking space between words", "/claude\u00A0status", { name: "status" }],
    ["at the end of a huge comment", `${filler(BIG - 30)}\n/claude run frontend`, { name: "run", specialty: "frontend" }],
  ])("%s", (_name, body, command) => {
    expect(parseCommand(body)).toEqual({ kind: "command", command });
  });
});

describe("parseCommand ignores text that is not a command", () => {
  it.each<[string, string]>([
    ["an empty comment", ""],
    ["a whitespace-only comment", "  \n\t\n \r\n"],
    ["ordinary text", "Looks good to me, thanks!"],
    ["a command in the middle of a line", "please /claude run frontend"],
    ["a longer word starting with /claude", "/claudex run"],
    ["a slash-joined word", "/claude/run frontend"],
    ["a missing slash", "claude run frontend"],
    ["a command in inline code", "`/claude run frontend`"],
    ["a command in inline code spanning lines", "try `this\n/claude run frontend` out"],
    ["a command in a double-backtick span", "``x\n/claude stop``"],
    ["a command in a fenced block", "```\n/claude run frontend\n```"],
    ["a command in a fenced block with a language", "```bash\n/claude stop\n```"],
    ["a command in a tilde block", "~~~\n/claude stop\n~~~"],
    ["a command in an indented fence", "1. do this:\n   ```\n/claude stop\n   ```"],
    ["a command in a deeply indented fence", "- item\n      ```\n/claude stop\n      ```"],
    ["a command after an unclosed fence", "```\n/claude stop"],
    ["a command in a longer fence that a short one does not close", "````\n```\n/claude stop\n````"],
    ["a command in a tilde block a backtick line does not close", "~~~\n```\n/claude stop\n~~~"],
    ["a command in an indented code block", "    /claude stop"],
    ["a command indented by a tab", "\t/claude stop"],
    ["a command in an indented continuation line", "some text\n    /claude stop"],
    ["a command in a blockquote", "> /claude stop"],
    ["a command in an indented blockquote", "  > /claude stop"],
    ["a command in a nested blockquote", "> > /claude stop"],
    ["a command in an email-style quoted reply", "On Monday someone wrote:\n>\n> /claude run backend"],
    ["a command in a fence inside a quote", "> ```\n> /claude stop\n> ```"],
    ["a command in an HTML comment", "<!-- /claude stop -->"],
    ["a command in a multi-line HTML comment", "<!--\nhidden\n/claude stop\n-->"],
    ["a command after an unclosed HTML comment", "<!--\n\n/claude stop"],
    ["a command in a list item", "- /claude stop"],
    ["a command in a heading", "# /claude stop"],
    ["a command in bold", "**/claude stop**"],
    ["a fullwidth slash", "\uFF0Fclaude stop"],
    ["a division slash", "\u2215claude stop"],
    ["a zero-width space inside /claude", "/cl\u200Baude stop"],
    ["a zero-width joiner inside /claude", "/claude\u200Dstop"],
    ["a Cyrillic a in claude", "/cl\u0430ude stop"],
    ["a huge comment with no command", filler(BIG)],
    ["a huge comment of backticks", "`".repeat(BIG)],
    ["a huge comment of alternating backtick runs", "`a``b".repeat(BIG / 5)],
  ])("%s", (_name, body) => {
    expect(parseCommand(body)).toEqual({ kind: "none" });
  });
});

describe("parseCommand explains a malformed command", () => {
  it.each<[string, string, RegExp]>([
    ["/claude alone", "/claude", /missing subcommand/],
    ["/claude with only invisible characters after it", "/claude \u200B", /missing subcommand/],
    [
      "an unknown subcommand, listing the valid ones",
      "/claude deploy",
      /unknown subcommand `deploy`; valid ones are run, status, cancel, retry, fix-ci, help, pause, resume, stop/,
    ],
    ["a subcommand with a trailing period", "/claude status.", /unknown subcommand `status\.`/],
    ["a specialty with invalid characters", "/claude run front_end", /`front_end` is not a specialty name/],
    ["an unknown flag", "/claude run -x", /unknown option `-x`; the only flag is `--force`/],
    ["a misspelt force", "/claude run --forse", /unknown option `--forse`/],
    ["force given twice", "/claude run --force --FORCE", /`--force` given twice/],
    ["a specialty that is too long", `/claude run ${"a".repeat(41)}`, /is not a specialty name/],
    ["a specialty with a lookalike letter", "/claude run fr\u043Ententend", /is not a specialty name/],
    ["a specialty with a zero-width char inside", "/claude run front\u200Bend", /is not a specialty name/],
    ["two specialties", "/claude run frontend backend", /specialty given twice \(`frontend` and `backend`\)/],
    ["the same specialty twice", "/claude run docs docs", /specialty given twice/],
    ["a sentence after run", "/claude run frontend please fix it", /specialty given twice/],
    ["priority given twice", "/claude run priority:high priority:low", /priority given twice/],
    ["the same priority twice", "/claude run priority:high priority:high", /priority given twice/],
    ["an invalid priority, listing the valid ones", "/claude run priority:asap", /unknown priority `asap`; use one of urgent, high, normal, low/],
    ["an empty priority", "/claude run priority:", /unknown priority ``/],
    ["a bare priority word", "/claude run high", /`high` looks like a priority; write it as `priority:<urgent\|high\|normal\|low>`/],
    ["a priority with a space", "/claude run priority high", /`priority` looks like a priority/],
    ["an unknown option", "/claude run model:opus", /unknown option `model:opus`/],
    ["status with arguments", "/claude status now", /`\/claude status` takes no arguments/],
    ["cancel with arguments", "/claude cancel frontend", /`\/claude cancel` takes no arguments/],
    ["stop with arguments", "/claude stop priority:high", /`\/claude stop` takes no arguments/],
    ["a broken first command even when a later one is fine", "/claude frobnicate\n/claude status", /unknown subcommand/],
    ["a malformed command at the end of a huge comment", `${filler(BIG - 20)}\n/claude run a b`, /specialty given twice/],
  ])("%s", (_name, body, message) => {
    const result = parseCommand(body);
    expect(result.kind).toBe("error");
    if (result.kind !== "error") return;
    expect(result.error).toMatch(message);
    expect(result.hint).toMatch(/\/claude/);
  });

  it("echoes user text without backticks that would break the reply's code span", () => {
    const result = parseCommand("/claude run a`@everyone`b");
    expect(result).toMatchObject({ kind: "error", error: expect.stringMatching(/^`a'@everyone'b` is not/) });
  });

  it("shortens very long user text in the reply", () => {
    const result = parseCommand(`/claude ${"x".repeat(5000)}`);
    expect(result.kind === "error" && result.error.length).toBeLessThan(200);
  });
});

describe("parseCommand schedules a run", () => {
  // Tuesday 1 December 2026, 14:30 UTC.
  const now = Date.UTC(2026, 11, 1, 14, 30);
  const run = (body: string) => parseCommand(body, { now });

  it.each<[string, string, number]>([
    ["in minutes", "/claude run in 90m", now + 90 * 60_000],
    ["in hours", "/claude run in 2h", now + 2 * 3_600_000],
    ["in days, hours and minutes", "/claude run in 1d2h5m", now + (26 * 60 + 5) * 60_000],
    ["at a clock time later today", "/claude run at 22:15", Date.UTC(2026, 11, 1, 22, 15)],
    ["at a clock time already past today: tomorrow", "/claude run at 02:00", Date.UTC(2026, 11, 2, 2, 0)],
    ["at a clock time with UTC spelled out", "/claude run at 02:00 UTC", Date.UTC(2026, 11, 2, 2, 0)],
    ["at a date and time in UTC", "/claude run at 2026-12-03T06:00Z", Date.UTC(2026, 11, 3, 6, 0)],
    ["at a date and time without a zone: UTC", "/claude run at 2026-12-03T06:00", Date.UTC(2026, 11, 3, 6, 0)],
    ["at a date and time with an offset", "/claude run at 2026-12-03T07:00+01:00", Date.UTC(2026, 11, 3, 6, 0)],
  ])("%s", (_name, body, notBefore) => {
    expect(run(body)).toEqual({ kind: "command", command: { name: "run", notBefore } });
  });

  it("takes a schedule with a specialty and a priority, in any order", () => {
    expect(run("/claude run in 3h backend priority:low")).toEqual({
      kind: "command",
      command: { name: "run", specialty: "backend", priority: "low", notBefore: now + 3 * 3_600_000 },
    });
  });

  it.each<[string, string, string]>([
    ["a duration that is not one", "/claude run in soon", "is not a duration"],
    ["a time that is not one", "/claude run at noonish", "is not a time"],
    ["a date in the past", "/claude run at 2026-11-30T06:00Z", "is in the past"],
    ["more than a week ahead", "/claude run in 8d", "at most 7 days ahead"],
    ["a missing time", "/claude run at", "needs a time"],
    ["two schedules", "/claude run in 2h at 22:00", "given twice"],
  ])("refuses %s, saying which forms work", (_name, body, message) => {
    const result = run(body);
    expect(result.kind).toBe("error");
    if (result.kind !== "error") return;
    expect(result.error).toContain(message);
    if (!message.includes("twice")) expect(result.hint).toContain("in 90m");
  });
});

describe("parseCommand on a pull request", () => {
  const now = Date.UTC(2026, 11, 1, 14, 30);
  const onPr = (body: string) => parseCommand(body, { target: "pull-request", now });

  it.each<[string, string, Command]>([
    ["instructions on the same line", "/claude run rename parseFoo to parseBar", { name: "run", instructions: "rename parseFoo to parseBar" }],
    [
      "instructions on the lines below",
      "/claude run\nFix the failing test.\nKeep the API.",
      { name: "run", instructions: "Fix the failing test.\nKeep the API." },
    ],
    ["both", "/claude run address the review\n\n- keep it short", { name: "run", instructions: "address the review\n\n- keep it short" }],
    ["a priority before the instructions", "/claude run priority:high fix it", { name: "run", priority: "high", instructions: "fix it" }],
    ["a schedule before the instructions", "/claude run in 2h tidy the tests", { name: "run", notBefore: now + 2 * 3_600_000, instructions: "tidy the tests" }],
    [
      "'in' starting a sentence is not a schedule",
      "/claude run in the header, use the new logo",
      { name: "run", instructions: "in the header, use the new logo" },
    ],
    ["a word that names a specialty is an instruction", "/claude run backend tests too", { name: "run", instructions: "backend tests too" }],
    ["no instructions at all", "/claude run", { name: "run" }],
    ["--force is an instruction: a pull request's task waits for no issue", "/claude run --force push", { name: "run", instructions: "--force push" }],
    ["retry with instructions below", "/claude retry\nThis time keep the old name.", { name: "retry", instructions: "This time keep the old name." }],
    ["fix-ci", "/claude fix-ci", { name: "fix-ci" }],
    ["fix-ci in capitals", "/claude FIX-CI", { name: "fix-ci" }],
    ["fix-ci with instructions below", "/claude fix-ci\nThe snapshot is what changed.", { name: "fix-ci", instructions: "The snapshot is what changed." }],
  ])("%s", (_name, body, command) => {
    expect(onPr(body)).toEqual({ kind: "command", command });
  });

  it("takes no words after fix-ci on its line", () => {
    expect(onPr("/claude fix-ci now please")).toMatchObject({ kind: "error", error: "`/claude fix-ci` takes no arguments" });
  });

  it("refuses fix-ci on an issue, which has no checks of its own", () => {
    expect(parseCommand("/claude fix-ci", { target: "issue", now })).toMatchObject({ kind: "error", error: expect.stringMatching(/works on a pull request/) });
  });

  it("keeps code blocks below the command as written", () => {
    const body = "/claude run\n```ts\nconst a = 1;\n```";
    expect(onPr(body)).toEqual({ kind: "command", command: { name: "run", instructions: "```ts\nconst a = 1;\n```" } });
  });
});

describe("parseCommand on huge comments", () => {
  it("parses 65,536 characters of awkward Markdown quickly", () => {
    const bodies = ["`".repeat(BIG), "<!--".repeat(BIG / 4), "```\n".repeat(BIG / 4), "> q\n".repeat(BIG / 4), "`a``b<!--".repeat(BIG / 9)];
    const started = performance.now();
    for (const body of bodies) parseCommand(`${body}\n\n/claude help`);
    // Generous bound: only a quadratic blow-up (seconds) should trip it.
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("HELP_TEXT", () => {
  it.each(COMMAND_NAMES)("mentions /claude %s", (name) => {
    expect(HELP_TEXT).toContain(`/claude ${name}`);
  });

  it("shows --force", () => {
    expect(HELP_TEXT).toContain("--force");
  });

  it("shows the priorities and who may pause", () => {
    expect(HELP_TEXT).toContain("priority:urgent|high|normal|low");
    expect(HELP_TEXT).toContain("cluster admins only");
  });

  it("is not itself a command when quoted back", () => {
    expect(parseCommand(HELP_TEXT)).toEqual({ kind: "none" });
  });
});
