import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkClaudeBinary, runClaude } from "../../claude/run-claude.js";
import { silentLogger } from "../../shared/logger.js";
import type { CheckResult } from "./check.js";

/**
 * The Claude CLI runs, and is logged in. The login check asks for one word: without a login
 * the CLI answers at once and offline; with one it costs a single tiny request.
 */
export async function checkClaude(bin: string, run: typeof runClaude = runClaude): Promise<CheckResult[]> {
  const binary = await checkClaudeBinary(bin);
  if (!binary.ok)
    return [{ name: "claude binary", status: "fail", detail: binary.message, fix: "npm install -g @anthropic-ai/claude-code, or set CLAUDE_BIN to its path" }];
  const results: CheckResult[] = [{ name: "claude binary", status: "ok", detail: `${bin}: ${binary.version}` }];
  const cwd = await mkdtemp(join(tmpdir(), "ccc-doctor-"));
  try {
    const outcome = await run({
      bin,
      prompt: "Reply with the single word OK.",
      cwd,
      maxTurns: 1,
      permissionMode: "default",
      allowedTools: [],
      timeoutMs: 60_000,
      log: silentLogger,
    });
    if (outcome.ok) results.push({ name: "claude login", status: "ok", detail: "logged in (answered a one-word prompt)" });
    else if (outcome.failure.kind === "session-expired") {
      results.push({
        name: "claude login",
        status: "fail",
        detail: outcome.failure.message,
        fix: "run `claude /login` as the user the agent runs as (or set ANTHROPIC_API_KEY)",
      });
    } else if (outcome.failure.kind === "usage-limit") {
      results.push({
        name: "claude login",
        status: "warn",
        detail: `logged in, but ${outcome.failure.message}`,
        fix: "wait for the reset; agents sharing the account pause until then",
      });
    } else {
      results.push({
        name: "claude login",
        status: "warn",
        detail: `inconclusive (${outcome.failure.kind}): ${outcome.failure.message}`,
        fix: "check this machine's network access to the Claude API, then run ccc doctor again",
      });
    }
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
  return results;
}
