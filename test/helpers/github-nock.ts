import nock from "nock";

export const API = "https://api.github.com";

/** Installation tokens for any installation; Probot caches them per installation. */
export function nockInstallationToken(): nock.Scope {
  return nock(API)
    .persist()
    .post(/\/app\/installations\/\d+\/access_tokens/)
    .reply(201, { token: "ghs_testtoken", expires_at: new Date(Date.now() + 3_600_000).toISOString(), permissions: {} });
}

/** The repo has no `.github/claude-cluster.yml`. */
export function nockNoRepoConfig(owner: string, repo: string): nock.Scope {
  return nock(API).get(`/repos/${owner}/${repo}/contents/.github%2Fclaude-cluster.yml`).reply(404, { message: "Not Found" });
}

export function nockRepoConfig(owner: string, repo: string, text: string): nock.Scope {
  return nock(API).get(`/repos/${owner}/${repo}/contents/.github%2Fclaude-cluster.yml`).reply(200, text);
}

export function nockPermission(owner: string, repo: string, user: string, role: string): nock.Scope {
  const permission = role === "maintain" ? "write" : role === "triage" ? "read" : role;
  return nock(API)
    .get(`/repos/${owner}/${repo}/collaborators/${user}/permission`)
    .reply(200, { permission, role_name: role, user: { login: user } });
}
