import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, dirname } from "node:path";

export interface HttpGitServer {
  /** `http://127.0.0.1:<port>`: the server URL, as GITHUB_SERVER_URL would be. */
  serverUrl: string;
  /** The bare repository's clone URL on this server. */
  url: string;
  /** Every request git made: `GET /origin.git/info/refs?service=git-receive-pack 200`. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A bare repository served over git's smart HTTP protocol (`git http-backend` as a CGI
 * program), answering 401 to any request without `Authorization: Basic x-access-token:<token>`,
 * as GitHub does for a job's token. Lets a test prove that a fetch or push carried the token.
 */
export async function serveOverHttp(bareDir: string, token: string): Promise<HttpGitServer> {
  const expected = `basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const authorized = req.headers.authorization?.toLowerCase() === expected.toLowerCase();
    const line = `${req.method} ${req.url}`;
    if (!authorized) {
      requests.push(`${line} 401`);
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="test"' }).end();
      return;
    }
    void httpBackend(dirname(bareDir), req, res).then((status) => requests.push(`${line} ${status}`));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    serverUrl,
    url: `${serverUrl}/${basename(bareDir)}`,
    requests,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** One request through `git http-backend`; resolves with the status it answered. */
function httpBackend(projectRoot: string, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const child = spawn("git", ["http-backend"], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: "1",
      // Set by a server that authenticated the user; http-backend allows a push only then.
      REMOTE_USER: "x-access-token",
      REMOTE_ADDR: "127.0.0.1",
      REQUEST_METHOD: req.method ?? "GET",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      ...(req.headers["content-encoding"] ? { HTTP_CONTENT_ENCODING: req.headers["content-encoding"] } : {}),
      ...(req.headers["git-protocol"] ? { GIT_PROTOCOL: String(req.headers["git-protocol"]) } : {}),
    },
    stdio: ["pipe", "pipe", "ignore"],
  });
  req.pipe(child.stdin);
  const chunks: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  return new Promise((done) => {
    child.on("close", () => {
      // CGI output: headers, a blank line, the body.
      const output = Buffer.concat(chunks);
      const end = output.indexOf("\r\n\r\n");
      const head = output.subarray(0, end).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      let status = 200;
      for (const header of head) {
        const colon = header.indexOf(":");
        const [name, value] = [header.slice(0, colon).trim(), header.slice(colon + 1).trim()];
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers).end(output.subarray(end + 4));
      done(status);
    });
  });
}
