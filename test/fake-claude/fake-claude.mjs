#!/usr/bin/env node
// A scripted stand-in for the Claude Code CLI (`claude -p --output-format stream-json
// --verbose`, prompt on stdin). Its lines copy the real CLI 2.1.x format (see test/fixtures/claude/).
// Like the real CLI, `-p` takes the prompt from stdin when no prompt argument follows it, and an
// empty prompt is an error.
//
// FAKE_CLAUDE_SCENARIO   edit (default) | interrupted-once | no-changes | not-logged-in | usage-limit | usage-limit-once | max-turns | network | crash | hang | tamper-git | hostile
//                        interrupted-once: the first run (per sessions dir and worktree) edits the file, then fails
//                        mid-run on an API 500 before committing; every later run behaves as `edit`
// FAKE_CLAUDE_SESSIONS_DIR  where sessions are kept, one <id>.json each (default: fake-claude-sessions in the
//                        worktree's git dir, so they go with the worktree; none kept for a cwd that is no git worktree). `--resume <id>` of a kept session continues it
//                        (same session id; input tokens only for the new prompt and the steps left, not the whole
//                        task again); an unknown id fails as the real CLI 2.1.x does: stderr
//                        "No conversation found with session ID: <id>", an error result line, exit 1
// FAKE_CLAUDE_ARGS_LOG   append one {"argv", "cwd", "prompt", "promptBytes"} JSON line per run here
// FAKE_CLAUDE_CANARY     `hostile`: a secret-shaped value it puts in its progress and its answer
// FAKE_CLAUDE_FILE       file the `edit` scenario changes and commits (default CLAUDE_CHANGE.md)
// FAKE_CLAUDE_RESET      usage-limit reset, epoch seconds (default now + 3600)
// FAKE_CLAUDE_RESET_FILE if this file exists, its trimmed content overrides FAKE_CLAUDE_RESET
// FAKE_CLAUDE_DELAY_MS   sleep this long before the result line
// FAKE_CLAUDE_HOLD_FILE  before the result line, wait until this file exists (a test releases the run)
// FAKE_CLAUDE_ARGS_FILE  write {"argv": [...], "cwd": "...", "prompt": "...", "promptBytes": n} here
// FAKE_CLAUDE_RUN_LOG   append one JSON line per run: {"at": <start ms>, "cwd", "branch": <checked-out branch or null>, "prompt",
//                        "traceparent", "tracestate": the W3C trace context it was given, or null}
// FAKE_CLAUDE_ENV_FILE   write this process's whole environment here, as JSON
// FAKE_CLAUDE_SPAWN_LOG  append `${Date.now()}\n` at start (spawn latency benchmarks)
// FAKE_CLAUDE_PIDS_FILE  `hang`: write {"pid", "childPid"} here once the child runs
// FAKE_CLAUDE_IGNORE_SIGTERM=1  `hang`: this process and its child ignore SIGTERM (tests the SIGKILL escalation)
// A merge under way with conflicted files (a conflict task): `edit` resolves them instead of editing
// FAKE_CLAUDE_FILE, keeping both sides' lines and removing the markers, and `git add`s them without
// committing, as the prompt asks. FAKE_CLAUDE_LEAVE_CONFLICTS=1: it claims to, but leaves the markers.
// FAKE_CLAUDE_SCENARIO_FILE  if this file exists, its trimmed content overrides FAKE_CLAUDE_SCENARIO
//                        (tests change behaviour mid-run: a login that expires, then works again)
// The agent's login probe ("Reply with the single word OK.") gets a plain "OK" in the
// scenarios that would succeed, so probing never edits or commits anything.
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const env = process.env;
const started = Date.now();
if (env.FAKE_CLAUDE_SPAWN_LOG) appendFileSync(env.FAKE_CLAUDE_SPAWN_LOG, `${started}\n`);

const argv = process.argv.slice(2);
if (argv.includes("--version")) {
  process.stdout.write("2.1.0 (Claude Code, fake)\n");
  process.exit(0);
}
if (env.FAKE_CLAUDE_ENV_FILE) writeFileSync(env.FAKE_CLAUDE_ENV_FILE, JSON.stringify(env));

const flag = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const promptArg = flag("-p", "-");
const prompt = promptArg.startsWith("-") ? await readStdin() : promptArg;
if (env.FAKE_CLAUDE_ARGS_FILE)
  writeFileSync(env.FAKE_CLAUDE_ARGS_FILE, JSON.stringify({ argv, cwd: process.cwd(), prompt, promptBytes: Buffer.byteLength(prompt) }));
if (env.FAKE_CLAUDE_RUN_LOG) {
  let branch = null;
  try {
    branch = execFileSync("git", ["rev-parse", "--abbrev-ref", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    // Not in a git worktree (the login probe).
  }
  const trace = { traceparent: env.TRACEPARENT ?? null, tracestate: env.TRACESTATE ?? null };
  appendFileSync(env.FAKE_CLAUDE_RUN_LOG, `${JSON.stringify({ at: started, cwd: process.cwd(), branch, prompt, ...trace })}\n`);
}
if (env.FAKE_CLAUDE_ARGS_LOG)
  appendFileSync(env.FAKE_CLAUDE_ARGS_LOG, `${JSON.stringify({ argv, cwd: process.cwd(), prompt, promptBytes: Buffer.byteLength(prompt) })}\n`);
if (prompt.trim() === "") {
  process.stderr.write("Error: Input must be provided either through stdin or as a prompt argument when using --print\n");
  process.exit(1);
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}
const model = flag("--model", "claude-sonnet-4-5");
const cwd = process.cwd();
/** The worktree's own git dir, where sessions live by default: they go when the worktree goes. */
const gitDir = () => {
  try {
    return execFileSync("git", ["rev-parse", "--absolute-git-dir"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
};
const defaultSessionsDir = env.FAKE_CLAUDE_SESSIONS_DIR ? undefined : existsSync(join(cwd, ".git")) ? gitDir() : undefined;
const sessionsDir = env.FAKE_CLAUDE_SESSIONS_DIR ?? (defaultSessionsDir ? join(defaultSessionsDir, "fake-claude-sessions") : undefined);
const resumeId = flag("--resume", undefined);
const sessionFile = (id) => (sessionsDir ? join(sessionsDir, `${id}.json`) : undefined);
if (resumeId !== undefined && !(sessionsDir && existsSync(sessionFile(resumeId)))) {
  // The real CLI's answer to an unknown --resume id in print mode with stream-json (2.1.x).
  const message = `No conversation found with session ID: ${resumeId}`;
  process.stderr.write(`${message}\n`);
  process.stdout.write(
    `${JSON.stringify({ type: "result", subtype: "error_during_execution", duration_ms: 0, duration_api_ms: 0, is_error: true, num_turns: 0, stop_reason: null, session_id: randomUUID(), total_cost_usd: 0, usage: { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 }, modelUsage: {}, permission_denials: [], uuid: randomUUID(), errors: [message] })}\n`,
  );
  process.exit(1);
}
const sessionId = resumeId ?? randomUUID();
const isProbe = prompt.startsWith("Reply with the single word OK");
/** What the session did so far: `edited` once the file change is made. */
const session = resumeId !== undefined ? JSON.parse(readFileSync(sessionFile(resumeId), "utf8")) : { id: sessionId, cwd, steps: [] };
const saveSession = (step) => {
  if (step) session.steps.push(step);
  if (!sessionsDir) return;
  mkdirSync(sessionsDir, { recursive: true });
  writeFileSync(sessionFile(sessionId), JSON.stringify(session));
};
/** Input tokens of a run: a fresh one reads the whole task; a resumed one only what is new (the continuation). */
const inputTokens = (fresh) => (resumeId !== undefined ? 1500 + Math.ceil(Buffer.byteLength(prompt) / 4) : fresh);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const emit = (line) => process.stdout.write(`${JSON.stringify({ ...line, session_id: sessionId, uuid: randomUUID() })}\n`);
const usage = (input, output) => ({
  input_tokens: input,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  output_tokens: output,
  service_tier: "standard",
});

const init = () => {
  if (!isProbe) saveSession();
  emit({
    type: "system",
    subtype: "init",
    cwd,
    tools: ["Task", "Bash", "Edit", "Read", "Write"],
    mcp_servers: [],
    model,
    permissionMode: flag("--permission-mode", "default"),
    apiKeySource: "none",
    claude_code_version: "2.1.0",
  });
};
let messageCount = 0;
const assistant = (content, extra = {}) =>
  emit({
    type: "assistant",
    message: { id: `msg_fake${++messageCount}`, type: "message", role: "assistant", model, content, stop_reason: null, usage: usage(1500, 60) },
    parent_tool_use_id: null,
    ...extra,
  });
const toolUse = (id, name, input) => assistant([{ type: "tool_use", id, name, input }]);
const toolResult = (id, content, isError = false) =>
  emit({ type: "user", message: { role: "user", content: [{ tool_use_id: id, type: "tool_result", content, is_error: isError }] }, parent_tool_use_id: null });
const synthetic = (text, error) =>
  emit({
    type: "assistant",
    message: {
      id: randomUUID(),
      model: "<synthetic>",
      role: "assistant",
      stop_reason: "stop_sequence",
      type: "message",
      usage: usage(0, 0),
      content: [{ type: "text", text }],
    },
    parent_tool_use_id: null,
    error,
  });
const resultLine = (fields) =>
  emit({
    type: "result",
    subtype: "success",
    is_error: false,
    api_error_status: null,
    duration_ms: Date.now() - started,
    duration_api_ms: 0,
    num_turns: 1,
    stop_reason: "end_turn",
    total_cost_usd: 0,
    usage: usage(0, 0),
    permission_denials: [],
    ...fields,
  });
const result = async (fields) => {
  if (env.FAKE_CLAUDE_DELAY_MS) await sleep(Number(env.FAKE_CLAUDE_DELAY_MS));
  while (env.FAKE_CLAUDE_HOLD_FILE && !existsSync(env.FAKE_CLAUDE_HOLD_FILE)) await sleep(50);
  resultLine(fields);
};

function git(args, extraEnv = {}) {
  return execFileSync("git", args, { cwd, env: { ...env, ...extraEnv }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
/** The real CLI commits as whoever git is configured for; a bare test repo may have nobody. */
function identityEnv() {
  try {
    git(["config", "user.email"]);
    return {};
  } catch {
    return {
      GIT_AUTHOR_NAME: "Fake Claude",
      GIT_AUTHOR_EMAIL: "fake-claude@example.com",
      GIT_COMMITTER_NAME: "Fake Claude",
      GIT_COMMITTER_EMAIL: "fake-claude@example.com",
    };
  }
}

/** Claude's edit of `file`, as tool lines, then the change on disk; the session remembers it. */
function editFile(file, path) {
  assistant([{ type: "text", text: `I'll record the requested change in ${file}.` }]);
  const before = existsSync(path) ? readFileSync(path, "utf8") : "";
  const line = `- change ${before.split("\n").filter((l) => l.startsWith("- change")).length + 1} by fake claude\n`;
  toolUse("toolu_fake_edit", before ? "Edit" : "Write", {
    file_path: path,
    ...(before ? { old_string: before, new_string: before + line } : { content: `# Changes\n\n${line}` }),
  });
  writeFileSync(path, before ? before + line : `# Changes\n\n${line}`);
  toolResult("toolu_fake_edit", `The file ${path} has been updated successfully.`);
  saveSession("edited");
}

/** The files git left conflicted in the worktree, when a merge is under way. */
function conflictedFiles() {
  try {
    git(["rev-parse", "-q", "--verify", "MERGE_HEAD"]);
  } catch {
    return [];
  }
  return git(["diff", "--name-only", "--diff-filter=U"]).split("\n").filter(Boolean);
}

/** Resolves every conflict by keeping both sides, in order, and stages the files; no commit. */
async function resolveConflicts(files) {
  init();
  for (const file of files) {
    const path = join(cwd, file);
    const before = readFileSync(path, "utf8");
    const after =
      env.FAKE_CLAUDE_LEAVE_CONFLICTS === "1"
        ? before
        : before
            .split("\n")
            .filter((line) => !/^(<{7}|={7}|>{7})( |$)/.test(line))
            .join("\n");
    toolUse("toolu_fake_resolve", "Edit", { file_path: path, old_string: before, new_string: after });
    writeFileSync(path, after);
    toolResult("toolu_fake_resolve", `The file ${path} has been updated successfully.`);
    git(["add", "--", file]);
  }
  const summary = `Resolved the conflicts in ${files.map((f) => `\`${f}\``).join(", ")} by keeping both sides.`;
  assistant([{ type: "text", text: summary }]);
  await result({ num_turns: 2, result: summary, total_cost_usd: 0.0111, usage: usage(inputTokens(3000), 120) });
}

const scenarios = {
  async edit() {
    const conflicted = conflictedFiles();
    if (conflicted.length > 0) return resolveConflicts(conflicted);
    const file = env.FAKE_CLAUDE_FILE ?? "CLAUDE_CHANGE.md";
    const path = join(cwd, file);
    init();
    // A resumed session whose edit is made but not committed goes straight on to the commit.
    const pending = session.steps.includes("edited") && git(["status", "--porcelain", "--", file]).trim() !== "";
    if (pending) assistant([{ type: "text", text: `My change to ${file} is in place but not committed yet; committing it now.` }]);
    else editFile(file, path);
    const message = `Update ${file}`;
    toolUse("toolu_fake_bash", "Bash", { command: `git add ${file} && git commit -m '${message}'`, description: "Commit the change" });
    git(["add", "--", file]);
    const out = git(["commit", "-m", message], identityEnv());
    toolResult("toolu_fake_bash", out.trim());
    saveSession("committed");
    const summary = `Updated \`${file}\` with a new change entry and committed it ("${message}").`;
    assistant([{ type: "text", text: summary }]);
    await result({ num_turns: pending ? 1 : 3, result: summary, total_cost_usd: 0.0234, usage: usage(inputTokens(6700), pending ? 90 : 220) });
  },
  // A run interrupted midway: the change is made, then the API fails (500) before the commit.
  // Only the first run with this sessions dir; later runs are `edit` (a resume commits the change).
  async "interrupted-once"() {
    const marker = join(sessionsDir ?? tmpdir(), `interrupted-once-${Buffer.from(cwd).toString("hex").slice(-40)}`);
    if (resumeId !== undefined || existsSync(marker)) return scenarios.edit();
    mkdirSync(dirname(marker), { recursive: true });
    writeFileSync(marker, `${sessionId}\n`);
    const file = env.FAKE_CLAUDE_FILE ?? "CLAUDE_CHANGE.md";
    init();
    editFile(file, join(cwd, file));
    const text = "API Error: 500 Internal server error";
    synthetic(text, "server_error");
    await result({ is_error: true, result: text, num_turns: 2, stop_reason: "stop_sequence", total_cost_usd: 0.0151, usage: usage(4200, 150) });
    process.exitCode = 1;
  },
  // A prompt-injected Claude: points the worktree's .git at a directory whose config runs a
  // program on the agent's next `git status` (FAKE_CLAUDE_MARKER is the file it would create).
  async "tamper-git"() {
    init();
    const evil = join(cwd, "evil");
    execFileSync("mkdir", ["-p", join(evil, "objects"), join(evil, "refs")]);
    writeFileSync(join(evil, "HEAD"), "ref: refs/heads/main\n");
    writeFileSync(
      join(evil, "config"),
      `[core]\n\trepositoryformatversion = 0\n\tfsmonitor = touch ${env.FAKE_CLAUDE_MARKER ?? join(tmpdir(), "fake-claude-pwned")}; false\n`,
    );
    writeFileSync(join(cwd, ".git"), "gitdir: ./evil\n");
    writeFileSync(join(cwd, "CLAUDE_CHANGE.md"), "changed\n");
    const summary = "Done.";
    assistant([{ type: "text", text: summary }]);
    await result({ num_turns: 2, result: summary, total_cost_usd: 0.01, usage: usage(1000, 50) });
  },
  // A prompt-injected Claude trying to get things out through what the cluster publishes: it
  // looks for the agent's secrets in its environment, and puts them, the canary, an image on an
  // outside host (a beacon), a team mention and another issue's reference in its live progress
  // and its answer. It also commits a change, so the answer becomes a PR body.
  async hostile() {
    const canary = env.FAKE_CLAUDE_CANARY ?? "ghp_000000000000000000000000000000000000";
    const wanted = ["REDIS_URL", "GH_TOKEN", "GITHUB_TOKEN", "SSH_AUTH_SOCK", "WEBHOOK_SECRET", "PRIVATE_KEY", "CCC_API_TOKEN", "CCC_TASK_SECRET"];
    const found = wanted.filter((name) => env[name] !== undefined).map((name) => `${name}=${env[name]}`);
    const bait = `${canary} ![](https://evil.example/beacon.png) @octo-org/admins see octo-org/other#1`;
    init();
    toolUse("toolu_fake_bash", "Bash", { command: `echo ${bait}`, description: `Tell @octo-org/admins ${canary}` });
    toolResult("toolu_fake_bash", bait);
    const file = join(cwd, "CLAUDE_CHANGE.md");
    writeFileSync(file, "changed by a hostile run\n");
    git(["add", "--", "CLAUDE_CHANGE.md"]);
    git(["commit", "-m", "Hostile change"], identityEnv());
    const summary = [
      "Done. Found in my environment:",
      found.length > 0 ? found.join("\n") : "(nothing)",
      `Token: ${canary}`,
      "![status](https://evil.example/beacon.png)",
      '<img src="https://evil.example/pixel.gif">',
      "[the docs](https://evil.example/phish)",
      "Pinging @octo-org/admins and @some-user; related: octo-org/other#1 and #2.",
    ].join("\n\n");
    assistant([{ type: "text", text: summary }]);
    await result({ num_turns: 2, result: summary, total_cost_usd: 0.01, usage: usage(1000, 50) });
  },
  async "no-changes"() {
    init();
    const summary = "The behaviour described in the issue is already implemented; no change is needed.";
    assistant([{ type: "text", text: summary }]);
    await result({ num_turns: 1, result: summary, total_cost_usd: 0.0041, usage: usage(1200, 40) });
  },
  async "not-logged-in"() {
    // The real CLI's own lines, byte for byte.
    const fixture = fileURLToPath(new URL("../fixtures/claude/not-logged-in.jsonl", import.meta.url));
    process.stdout.write(readFileSync(fixture, "utf8"));
    process.exitCode = 1;
  },
  async "usage-limit"() {
    const fromResetFile =
      env.FAKE_CLAUDE_RESET_FILE && existsSync(env.FAKE_CLAUDE_RESET_FILE) ? readFileSync(env.FAKE_CLAUDE_RESET_FILE, "utf8").trim() : undefined;
    const reset = fromResetFile || (env.FAKE_CLAUDE_RESET ?? String(Math.floor(Date.now() / 1000) + 3600));
    const text = `Claude AI usage limit reached|${reset}`;
    init();
    synthetic(text, "rate_limit");
    await result({ is_error: true, result: text, stop_reason: "stop_sequence" });
    process.exitCode = 1;
  },
  // `usage-limit` once: the scenario file then says `edit`, so the run after the reset edits
  // whenever it comes, with no test racing the agent to change the file.
  async "usage-limit-once"() {
    if (env.FAKE_CLAUDE_SCENARIO_FILE) writeFileSync(env.FAKE_CLAUDE_SCENARIO_FILE, "edit");
    await scenarios["usage-limit"]();
  },
  async "max-turns"() {
    init();
    toolUse("toolu_fake_read", "Read", { file_path: join(cwd, "README.md") });
    toolResult("toolu_fake_read", "1\t# Project");
    await result({
      subtype: "error_max_turns",
      is_error: true,
      result: undefined,
      num_turns: 3,
      stop_reason: "tool_use",
      total_cost_usd: 0.0102,
      errors: [`Reached maximum number of turns (${flag("--max-turns", "2")})`],
      terminal_reason: "max_turns",
    });
    process.exitCode = 1;
  },
  async network() {
    init();
    for (const attempt of [1, 2, 3]) {
      emit({ type: "system", subtype: "api_retry", attempt, max_retries: 3, retry_delay_ms: 5 * attempt, error_status: null, error: "unknown" });
      await sleep(5 * attempt);
    }
    const text = "API Error: Unable to connect to API (ConnectionRefused)";
    synthetic(text, "server_error");
    await result({ is_error: true, result: text, stop_reason: "stop_sequence" });
    process.exitCode = 1;
  },
  async crash() {
    init();
    process.stderr.write("TypeError: Cannot read properties of undefined (reading 'content')\n    at fakeClaude (fake-claude.mjs:1:1)\n");
    process.exitCode = 2;
  },
  async hang() {
    const ignoreTerm = env.FAKE_CLAUDE_IGNORE_SIGTERM === "1";
    if (ignoreTerm) process.on("SIGTERM", () => {});
    init();
    // Same process group; stdout inherited, like a tool command Claude left running.
    const childScript = `${ignoreTerm ? 'process.on("SIGTERM", () => {});' : ""} setTimeout(() => {}, 300000);`;
    const child = spawn(process.execPath, ["-e", childScript], { stdio: ["ignore", "inherit", "inherit"] });
    if (env.FAKE_CLAUDE_PIDS_FILE) writeFileSync(env.FAKE_CLAUDE_PIDS_FILE, JSON.stringify({ pid: process.pid, childPid: child.pid }));
    setInterval(() => {}, 1 << 30);
  },
};

scenarios.probe = async () => {
  init();
  assistant([{ type: "text", text: "OK" }]);
  // No FAKE_CLAUDE_DELAY_MS or hold here: they stand for a long task, not for a probe.
  resultLine({ total_cost_usd: 0.0001, usage: usage(20, 1), result: "OK" });
};

const fromFile =
  env.FAKE_CLAUDE_SCENARIO_FILE && existsSync(env.FAKE_CLAUDE_SCENARIO_FILE) ? readFileSync(env.FAKE_CLAUDE_SCENARIO_FILE, "utf8").trim() : undefined;
const chosen = fromFile || (env.FAKE_CLAUDE_SCENARIO ?? "edit");
const scenario =
  isProbe && ["edit", "interrupted-once", "no-changes", "max-turns", "crash", "hang", "tamper-git", "hostile"].includes(chosen) ? "probe" : chosen;
if (!scenarios[scenario]) {
  process.stderr.write(`fake-claude: unknown FAKE_CLAUDE_SCENARIO ${scenario}\n`);
  process.exit(64);
}
await scenarios[scenario]();
