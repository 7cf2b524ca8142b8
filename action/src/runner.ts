import * as core from "@actions/core";
import { runClaude } from "../../src/claude/run-claude.js";
import { ConfigError } from "../../src/config/env-error.js";
import { createLogger } from "../../src/shared/logger.js";
import { UserFacingError } from "../../src/shared/user-facing-error.js";
import { startTracing } from "../../src/telemetry/start-tracing.js";
import { actionInputsSchema, INPUT_NAMES, type ActionInputs } from "./inputs.js";
import { basicCredential } from "./lib/git-credential-config.js";
import { readJobContext } from "./lib/job-context.js";
import { restClient } from "./lib/rest-client.js";
import { main, type MainDeps, type Outcome } from "./main.js";

/** Reads the inputs the runner passes as `INPUT_<NAME>` variables (through `core.getInput`). */
export function readInputs(): ActionInputs {
  const raw = Object.fromEntries(INPUT_NAMES.map((name) => [name, core.getInput(name)]));
  const parsed = actionInputsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(inputs)"}: ${issue.message}`);
  throw new ConfigError(`the action's inputs are not valid:\n  ${problems.join("\n  ")}`);
}

/**
 * Parses inputs, runs `main`, sets the outputs. The job fails only when the task failed;
 * `waiting` (usage limit, expired login) is not the job's fault.
 */
export async function runner(overrides: Partial<MainDeps> = {}): Promise<Outcome | undefined> {
  // Off unless the workflow sets an OTLP endpoint (OTEL_* in the job's env); then `ccc-action`.
  const tracing = await startTracing("action", overrides.log ?? createLogger({ name: "ccc-action" }));
  try {
    const inputs = readInputs();
    if (inputs.traceparent && "ignored" in inputs.traceparent) core.warning(inputs.traceparent.ignored);
    core.setSecret(inputs["github-token"]);
    core.setSecret(basicCredential(inputs["github-token"]));
    const job = readJobContext(process.env, inputs.account);
    const deps: MainDeps = {
      octokit: restClient(inputs["github-token"], job.GITHUB_API_URL),
      job,
      log: createLogger({ name: "ccc-action" }).child({ issue: inputs["issue-number"], dispatchId: inputs["dispatch-id"] }),
      runClaude,
      now: Date.now,
      warn: core.warning,
      ...overrides,
    };
    // The job's "task run" span (main.ts) is in the task's trace when the dispatcher sent its traceparent.
    const outcome = await main(deps, inputs);
    core.setOutput("conclusion", outcome.conclusion);
    core.setOutput("branch", outcome.branch);
    core.setOutput("pr-url", outcome.prUrl ?? "");
    core.setOutput("cost", outcome.costUsd !== undefined ? String(outcome.costUsd) : "");
    core.setOutput("turns", outcome.turns !== undefined ? String(outcome.turns) : "");
    if (outcome.conclusion === "failed") core.setFailed(`the task failed; see the tracking comment on issue #${inputs["issue-number"]}`);
    return outcome;
  } catch (error) {
    core.setFailed(jobFailure(error));
    return undefined;
  } finally {
    await tracing.shutdown();
  }
}

/** What the failed job says: a UserFacingError's message and hint; for anything else (a bug), its stack. */
export function jobFailure(error: unknown): string {
  if (error instanceof UserFacingError) return error.userMessage;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
