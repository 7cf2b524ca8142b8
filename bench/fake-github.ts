import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeGitHub {
  /** Pass as Probot's `baseUrl`: every Octokit request of the app lands here. */
  baseUrl: string;
  /** Requests received, keyed "METHOD /path". */
  requests: Map<string, number>;
  total(): number;
  stop(): Promise<void>;
}

/**
 * Just enough of the GitHub REST API on loopback for the webhook path to work with cold
 * caches: installation tokens, collaborator permission ("write"), and 404 for the repo config
 * file. The bench warms the caches so normally nothing arrives here; the counts prove it.
 */
export async function startFakeGitHub(): Promise<FakeGitHub> {
  const requests = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const key = `${req.method ?? "GET"} ${path}`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
    req.resume();
    req.on("end", () => answer(req, res, path));
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    total: () => [...requests.values()].reduce((sum, n) => sum + n, 0),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(req: IncomingMessage, res: ServerResponse, path: string): void {
  if (req.method === "POST" && /^\/app\/installations\/\d+\/access_tokens$/.test(path)) {
    return json(res, 201, {
      token: "ghs_fake_bench_token",
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      permissions: { issues: "write", contents: "read", metadata: "read", pull_requests: "write" },
      repository_selection: "all",
    });
  }
  const permission = /^\/repos\/[^/]+\/[^/]+\/collaborators\/([^/]+)\/permission$/.exec(path);
  if (req.method === "GET" && permission) {
    return json(res, 200, { permission: "write", role_name: "write", user: { login: decodeURIComponent(permission[1]!) } });
  }
  json(res, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
