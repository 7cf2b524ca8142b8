import { z } from "zod";

/** What the Actions runner tells every job through its environment. */
export const jobContextSchema = z.object({
  /** `owner/repo` the workflow runs for. */
  GITHUB_REPOSITORY: z.string().regex(/^[^/\s]+\/[^/\s]+$/, "owner/repo"),
  /** `https://github.com` or a GitHub Enterprise Server URL; used for the link to the run. */
  GITHUB_SERVER_URL: z.string().url().default("https://github.com"),
  /** The REST API base URL (differs on GitHub Enterprise Server). */
  GITHUB_API_URL: z.string().url().default("https://api.github.com"),
  /** The workflow run, for the link on a failure. */
  GITHUB_RUN_ID: z.string().min(1),
  /** The checkout the job works in (actions/checkout's default path). */
  GITHUB_WORKSPACE: z.string().min(1),
  /** The runner's name, shown as the task's agent and in session-timeout issues. */
  RUNNER_NAME: z.string().min(1).default("self-hosted runner"),
  /** The runner's Claude account name, when the `account` input is empty (set it in the runner's `.env`). */
  CCC_ACCOUNT: z.string().min(1).optional(),
  /** The Claude Code CLI when the `claude-bin` input is empty. */
  CLAUDE_BIN: z.string().min(1).default("claude"),
});

export type JobContext = z.infer<typeof jobContextSchema> & {
  owner: string;
  repo: string;
  runUrl: string;
  /** The account the run's usage is counted under: the `account` input, `CCC_ACCOUNT`, else `runner:<RUNNER_NAME>`. */
  account: string;
};

export function readJobContext(env: NodeJS.ProcessEnv = process.env, accountInput?: string): JobContext {
  const parsed = jobContextSchema.parse(env);
  const [owner, repo] = parsed.GITHUB_REPOSITORY.split("/") as [string, string];
  const runUrl = `${parsed.GITHUB_SERVER_URL.replace(/\/$/, "")}/${parsed.GITHUB_REPOSITORY}/actions/runs/${parsed.GITHUB_RUN_ID}`;
  const account = accountInput ?? parsed.CCC_ACCOUNT ?? `runner:${parsed.RUNNER_NAME}`;
  return { ...parsed, owner, repo, runUrl, account };
}
