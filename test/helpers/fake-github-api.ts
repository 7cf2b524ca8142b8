import { createServer, type Server } from "node:http";
import { freePort } from "./app-server.js";

export interface FakeGitHubApi {
  /** `127.0.0.1:<port>`, for GHE_HOST with GHE_PROTOCOL=http. */
  host: string;
  requests: string[];
  close(): Promise<void>;
}

/**
 * A loopback stand-in for GitHub (Enterprise) that answers GET /api/v3/app with rate-limit
 * headers, for an app running as a child process, where nock cannot reach.
 */
export async function startFakeGitHubApi(): Promise<FakeGitHubApi> {
  const port = await freePort();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const headers = { "content-type": "application/json", "x-ratelimit-remaining": "4321", "x-ratelimit-resource": "core", "x-ratelimit-limit": "5000" };
    if (req.method === "GET" && req.url === "/api/v3/app") {
      res.writeHead(200, headers).end(JSON.stringify({ id: 1, slug: "ccc-test", name: "ccc test" }));
    } else {
      res.writeHead(404, headers).end(JSON.stringify({ message: "Not Found" }));
    }
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { host: `127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
