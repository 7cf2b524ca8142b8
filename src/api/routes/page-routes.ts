import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import type { ApiDeps } from "../api-deps.js";
import type { Route } from "../http-routes.js";

/**
 * The dashboard is three static files. They hold no data and no token (the page asks for the
 * token and keeps it in sessionStorage; every data request sends it as a bearer header), so
 * they are served without auth. The CSP keeps the page to this origin: nothing is fetched
 * from the internet.
 */
const FILES = {
  "index.html": "text/html; charset=utf-8",
  "dashboard.js": "text/javascript; charset=utf-8",
  "dashboard.css": "text/css; charset=utf-8",
} as const;

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function load(name: keyof typeof FILES): Buffer {
  return readFileSync(new URL(`../dashboard/${name}`, import.meta.url));
}

function sendFile(res: ServerResponse, body: Buffer, type: string): undefined {
  res.writeHead(200, {
    "content-type": type,
    "content-length": body.length,
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
  });
  res.end(body);
  return undefined;
}

/** `/metrics` (token required) and the dashboard's files. */
export function pageRoutes(deps: ApiDeps): Route[] {
  const files = Object.fromEntries((Object.keys(FILES) as Array<keyof typeof FILES>).map((name) => [name, load(name)])) as Record<keyof typeof FILES, Buffer>;
  const file = (path: string, name: keyof typeof FILES): Route => ({
    method: "GET",
    path,
    public: true,
    handle: ({ res }) => sendFile(res, files[name], FILES[name]),
  });
  return [
    {
      method: "GET",
      path: "/metrics",
      handle: async ({ res }) => {
        const text = await deps.metrics.text();
        res.writeHead(200, { "content-type": deps.metrics.contentType, "cache-control": "no-store" });
        res.end(text);
        return undefined;
      },
    },
    file("/dashboard", "index.html"),
    file("/dashboard/dashboard.js", "dashboard.js"),
    file("/dashboard/dashboard.css", "dashboard.css"),
  ];
}
