import { REPO_CONFIG_PATH, type RepoConfigProblem } from "../config/repo-config.js";

/** The comment a repository with a broken config file gets instead of a task. */
export function configErrorReply(problems: RepoConfigProblem[]): string {
  const lines = problems.map((p) => `- \`${p.field || "(file)"}\`: ${p.message}`);
  return [
    `:warning: Claude did not start: \`${REPO_CONFIG_PATH}\` is not valid.`,
    "",
    ...lines,
    "",
    "Fix the file on the default branch and add the label or comment again. See docs/configuration.md for every setting.",
  ].join("\n");
}
