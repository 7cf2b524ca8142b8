import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeSmee {
  /** The channel's URL, `http://127.0.0.1:<port>/<channel>`: GitHub posts here, the smee client listens here. */
  url: string;
  /** Clients listening on the channel now. */
  listeners(): number;
  /** Deliveries posted to the channel so far. */
  received(): number;
  close(): Promise<void>;
}

/**
 * A smee.io channel on loopback. As smee.io does: a `GET` with `Accept: text/event-stream`
 * holds a Server-Sent Events stream (a `ready` event first); a `POST` (GitHub's delivery) is
 * answered 200 and sent to every listener as one `message` event whose data is the request's
 * headers, with `body` (the parsed JSON) and `query` beside them — the shape smee-client 5
 * turns back into a POST to its target (node_modules/smee-client/index.js, `#onmessage`).
 */
export async function startFakeSmee(channel = "test-channel"): Promise<FakeSmee> {
  const streams = new Set<ServerResponse>();
  let received = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== `/${channel}`) return void res.writeHead(404).end();
    if (req.method === "GET") return listen(res);
    if (req.method === "POST") return void relay(req, url, res);
    res.writeHead(405).end();
  });

  function listen(res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    res.write(`event: ready\ndata: {}\n\n`);
    streams.add(res);
    res.on("close", () => streams.delete(res));
  }

  async function relay(req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return void res.writeHead(400).end("not JSON");
    }
    received += 1;
    const data = { ...req.headers, body, query: Object.fromEntries(url.searchParams), timestamp: Date.now() };
    for (const stream of streams) stream.write(`data: ${JSON.stringify(data)}\n\n`);
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/${channel}`,
    listeners: () => streams.size,
    received: () => received,
    close: async () => {
      for (const stream of streams) stream.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
