import { z } from "zod";
import { specialtySchema } from "../../src/shared/specialty.js";
import { traceCarrierSchema, type TraceCarrier } from "../../src/telemetry/trace-carrier.js";

const optionalText = z
  .string()
  .transform((value) => value.trim())
  .transform((value) => (value === "" ? undefined : value));

/** A number input: Actions passes every input as a string, and an unset one as "". */
const count = (fallback: number, max: number) =>
  z
    .string()
    .transform((value) => (value.trim() === "" ? fallback : Number(value.trim())))
    .pipe(z.number().int().min(1).max(max));

/** The `traceparent` input: the trace the job's spans join, or why the value was ignored. */
export type TraceparentInput = { carrier: TraceCarrier } | { ignored: string };

/**
 * A W3C traceparent checked with the carrier schema the cluster's job data uses. An invalid one
 * is ignored (the job's spans start a trace of their own), never a reason to fail the job.
 */
const traceparentInput = optionalText.transform((value): TraceparentInput | undefined => {
  if (value === undefined) return undefined;
  const parsed = traceCarrierSchema.safeParse({ traceparent: value });
  if (parsed.success) return { carrier: parsed.data };
  // A hand-run job's input is not a secret, but it is not ours to echo at length either.
  const shown = value.length > 64 ? `${value.slice(0, 64)}…` : value;
  return { ignored: `the traceparent input "${shown}" is not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>); the job's spans start a trace of their own` };
});

/**
 * The action's inputs (action.yml), validated. Names are the action's, with dashes; the
 * runner hands them over as `INPUT_<NAME>` environment variables.
 */
export const actionInputsSchema = z.object({
  /** The issue Claude works on, in the repository the job runs for. */
  "issue-number": z.coerce.number().int().min(1),
  /** `owner/repo#n`; defaults to the job's repository and `issue-number`. Names the tracking comment. */
  "task-id": optionalText,
  /** Which run of the task this is (the cluster counts them); shown in the tracking comment. */
  run: count(1, 100_000),
  /** Decides Claude's role; the workflow also uses it in `runs-on`. */
  specialty: optionalText.pipe(specialtySchema.optional()),
  /** Used verbatim as Claude's prompt instead of the one built from the issue. */
  prompt: optionalText,
  /** `--model`; empty lets the CLI choose. */
  model: optionalText,
  /** `--max-turns`. */
  "max-turns": count(30, 500),
  /** Minutes before Claude is stopped, process tree and all. */
  "timeout-minutes": count(45, 24 * 60),
  /** `--allowedTools`, comma-separated; empty means the cluster's defaults. */
  "allowed-tools": optionalText.transform((value) =>
    value
      ?.split(",")
      .map((tool) => tool.trim())
      .filter((tool) => tool !== ""),
  ),
  /** `--permission-mode`. */
  "permission-mode": optionalText.pipe(z.enum(["default", "acceptEdits", "bypassPermissions", "plan"]).optional()),
  /** Open the pull request as a draft (the repository's `draftPullRequests`): "true" or "false". */
  "draft-pull-request": optionalText.pipe(z.enum(["true", "false"]).optional()).transform((value) => value === "true"),
  /** The repository's extra role text for the specialty, appended to the built-in role in the prompt. */
  role: optionalText,
  /** The Claude account the usage store counts this run's spend under; empty means `CCC_ACCOUNT` or `runner:<runner name>`. */
  account: optionalText,
  /** Token for the REST API (comment, labels, pull request, session-timeout issue). */
  "github-token": z.string().min(1, "github-token is empty: pass ${{ github.token }} or a token with issues and pull-requests write"),
  /** The Claude Code CLI; empty means `CLAUDE_BIN` or `claude`. */
  "claude-bin": optionalText,
  /** The dispatcher's id for this run, echoed in logs. */
  "dispatch-id": optionalText,
  /** The dispatch span's W3C context, set by the dispatcher with tracing on: the job's spans join the task's trace. */
  traceparent: traceparentInput,
});

export type ActionInputs = z.infer<typeof actionInputsSchema>;

/** Every input name, for reading them one by one with `core.getInput`. */
export const INPUT_NAMES = Object.keys(actionInputsSchema.shape) as (keyof ActionInputs)[];
