import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../shared/logger.js";
import { requestAllowed, type ApiAccess } from "./api-access.js";
import { HttpError, sendError, sendJson } from "./http-kit.js";

export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
}

/** A route answers with a JSON value, or writes the response itself and returns undefined. */
export interface Route {
  method: "GET" | "POST";
  /** `/api/v1/tasks/:owner/:repo/:number`: `:name` matches one path segment. */
  path: string;
  /** Public routes (health, the dashboard's static page) skip the token check. */
  public?: boolean;
  handle(request: RouteRequest): Promise<unknown> | unknown;
}

type Matcher = { route: Route; pattern: RegExp; names: string[] };

function compile(route: Route): Matcher {
  const names: string[] = [];
  const source = route.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:(\w+)/g, (_, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { route, pattern: new RegExp(`^${source}/?$`), names };
}

/**
 * A Probot server handler (`addHandler`) for the given routes: returns false for paths it
 * does not know, so Probot's 404 still answers them; checks the bearer token; turns thrown
 * HttpErrors into JSON errors and anything else into a logged 500.
 */
export function createRouter(routes: readonly Route[], access: ApiAccess, log: Logger) {
  const matchers = routes.map(compile);
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const candidates = matchers.flatMap((m) => {
      const match = m.pattern.exec(url.pathname);
      return match ? [{ m, match }] : [];
    });
    if (candidates.length === 0) return false;
    const found = candidates.find(({ m }) => m.route.method === req.method || (req.method === "HEAD" && m.route.method === "GET"));
    try {
      if (!found)
        throw new HttpError(
          405,
          "method-not-allowed",
          `${req.method} is not allowed on ${url.pathname}; use ${candidates.map(({ m }) => m.route.method).join(" or ")}`,
        );
      const { m, match } = found;
      if (!m.route.public && !requestAllowed(access, req.headers.authorization)) {
        throw new HttpError(401, "unauthorized", "send the API token as `Authorization: Bearer <CCC_API_TOKEN>`");
      }
      const params = Object.fromEntries(m.names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
      const body = await m.route.handle({ req, res, params, query: url.searchParams });
      if (body !== undefined && !res.headersSent) sendJson(res, 200, body);
    } catch (error) {
      if (res.headersSent) {
        log.error({ err: error, path: url.pathname }, "API handler failed after answering");
        res.end();
      } else if (error instanceof HttpError) sendError(res, error);
      else {
        log.error({ err: error, method: req.method, path: url.pathname }, "API handler failed");
        sendError(res, new HttpError(500, "internal", "the request failed; the app's log has the details"));
      }
    }
    return true;
  };
}
