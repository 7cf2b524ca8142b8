/**
 * The URL an agent clones from: the repository's own URL, or the operator's template
 * (`git@github.com:{owner}/{repo}.git` for SSH keys). Either way the agent's own git
 * credentials authenticate; no token travels through Redis.
 */
export function cloneUrl(template: string | undefined, repo: { owner: string; name: string; cloneUrl: string }): string {
  if (!template) return repo.cloneUrl;
  return template.replaceAll("{owner}", repo.owner).replaceAll("{repo}", repo.name);
}
