/**
 * Whether an agent with these `--repos` (`owner` or `owner/repo` entries; undefined serves all)
 * takes tasks of `owner/repo`. GitHub names are case-insensitive.
 */
export function servesRepo(repos: readonly string[] | undefined, owner: string, repo: string): boolean {
  if (repos === undefined) return true;
  const full = `${owner}/${repo}`.toLowerCase();
  return repos.some((entry) => {
    const e = entry.toLowerCase();
    return e.includes("/") ? e === full : e === owner.toLowerCase();
  });
}
