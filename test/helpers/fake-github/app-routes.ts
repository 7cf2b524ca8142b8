import { repoPath, json, notFound, type Route } from "./route.js";

/** App authentication and the reads the webhook handlers make: token, app, installation, permission, config file. */
export const appRoutes: Route[] = [
  {
    method: "POST",
    path: /^\/app\/installations\/(\d+)\/access_tokens$/,
    handle: () =>
      json(201, {
        token: "ghs_fake_installation_token",
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
        permissions: { issues: "write", contents: "read", metadata: "read", pull_requests: "write" },
        repository_selection: "all",
      }),
  },
  { method: "GET", path: /^\/app$/, handle: () => json(200, { id: 1, slug: "ccc-test", name: "ccc test" }) },
  {
    // The repository itself, as the Action reads it: clone URL (the origin's when set) and default branch.
    method: "GET",
    path: repoPath(""),
    handle: ({ state, fullName }) =>
      json(200, {
        full_name: fullName,
        name: fullName.split("/")[1],
        owner: { login: fullName.split("/")[0] },
        default_branch: "main",
        clone_url: state.repo(fullName).origin?.url ?? `https://github.com/${fullName}.git`,
      }),
  },
  {
    method: "GET",
    path: repoPath("/installation"),
    handle: ({ state }) => json(200, { id: state.installationId, app_id: 1, target_type: "Organization" }),
  },
  {
    method: "GET",
    path: repoPath("/collaborators/([^/]+)/permission"),
    handle: ({ state, params }) => {
      const login = decodeURIComponent(params[2]!);
      const role = state.role(login);
      if (role === "none") return notFound(`${login} is not a collaborator`);
      // `permission` folds maintain into write and triage into read, as GitHub does.
      const permission = role === "maintain" ? "write" : role === "triage" ? "read" : role;
      return json(200, { permission, role_name: role, user: { login } });
    },
  },
  {
    method: "GET",
    path: repoPath("/contents/(.+)"),
    handle: ({ state, fullName, params, accept }) => {
      const path = decodeURIComponent(params[2]!);
      const text = state.repo(fullName).files.get(path);
      if (text === undefined) return notFound();
      if (accept.includes("raw")) return { status: 200, body: text, headers: { "content-type": "application/vnd.github.raw; charset=utf-8" } };
      return json(200, { type: "file", path, encoding: "base64", content: Buffer.from(text).toString("base64") });
    },
  },
  {
    // Cancelling a run: remembered, so a test can see which runs the dispatcher stopped.
    method: "POST",
    path: repoPath("/actions/runs/(\\d+)/cancel"),
    handle: ({ state, fullName, params }) => {
      state.repo(fullName).cancelledRuns.push(Number(params[2]));
      return json(202, {});
    },
  },
];
