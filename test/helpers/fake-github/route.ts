import type { GitHubState } from "./github-state.js";

/** What the fake answers: a status, a JSON body, extra headers. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteContext {
  state: GitHubState;
  /** The path's capture groups; the first two are owner and repo for `/repos/...` routes. */
  params: string[];
  /** `owner/repo` for `/repos/...` routes. */
  fullName: string;
  query: URLSearchParams;
  /** The parsed JSON request body, `{}` when there was none. */
  body: Record<string, any>;
  accept: string;
  /** `http://127.0.0.1:<port>`: html_url values point here, as on a GitHub Enterprise host. */
  htmlBase: string;
}

export interface Route {
  method: string;
  path: RegExp;
  handle(ctx: RouteContext): Reply;
}

/** `/repos/:owner/:repo` followed by `rest`, as a route pattern. */
export const repoPath = (rest: string) => new RegExp(`^/repos/([^/]+)/([^/]+)${rest}$`);

export const json = (status: number, body?: unknown, headers?: Record<string, string>): Reply => ({ status, body, ...(headers ? { headers } : {}) });

export const notFound = (message = "Not Found"): Reply => json(404, { message, documentation_url: "https://docs.github.com/rest" });

export const validationFailed = (resource: string, message: string): Reply =>
  json(422, { message: "Validation Failed", errors: [{ resource, code: "custom", message }], documentation_url: "https://docs.github.com/rest" });
