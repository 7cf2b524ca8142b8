import { execa } from "execa";
import type { CheckResult } from "./check.js";

/** `owner/name` becomes a clone URL through `CCC_GIT_URL` (as the agent does) or GitHub's HTTPS URL. */
export function repoUrl(repo: string, template: string | undefined): string {
  const short = /^([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})$/.exec(repo);
  if (!short) return repo;
  const [, owner, name] = short;
  return template ? template.replaceAll("{owner}", owner!).replaceAll("{repo}", name!) : `https://github.com/${owner}/${name}.git`;
}

/** The agent's git credentials reach the repository: `git ls-remote` without any prompt. */
export async function checkGit(repo: string | undefined, template: string | undefined): Promise<CheckResult> {
  if (!repo) return { name: "git credentials", status: "skip", detail: "no repository given", fix: "run `ccc doctor --repo owner/name` on each agent PC" };
  const url = repoUrl(repo, template);
  const result = await execa("git", ["ls-remote", "--heads", url], {
    reject: false,
    timeout: 20_000,
    stdin: "ignore",
    env: { GIT_TERMINAL_PROMPT: "0", GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? "ssh -o BatchMode=yes" },
  });
  if (result.exitCode === 0)
    return {
      name: "git credentials",
      status: "ok",
      detail: `git ls-remote ${url} listed ${String(result.stdout).split("\n").filter(Boolean).length} branches`,
    };
  const lines = String(result.stderr ?? "")
    .trim()
    .split("\n")
    .filter(Boolean);
  const said = lines.find((l) => l.startsWith("fatal:")) ?? lines[0] ?? (result.timedOut ? "timed out after 20 s" : "failed");
  return {
    name: "git credentials",
    status: "fail",
    detail: `git ls-remote ${url}: ${said}`,
    fix: "give this user read and write access: an SSH key (with CCC_GIT_URL='git@github.com:{owner}/{repo}.git') or an HTTPS token in a credential helper; see docs/configuration.md#git-credentials-of-an-agent",
  };
}
