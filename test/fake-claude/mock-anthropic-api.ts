import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback stand-in for the Anthropic Messages API, so the REAL `claude` binary can run a
 * whole session offline: point it here with `ANTHROPIC_BASE_URL` and any `ANTHROPIC_API_KEY`.
 * This is how test/fixtures/claude/success-tool-use.jsonl and the API error fixtures were
 * recorded, and how the tests check our parser against the installed CLI version.
 *
 * `fix-readme`: turn 1 reads README.md, 2 fixes "Helo" → "Hello", 3 commits with Bash, 4 summarises.
 * `error`: every request fails with `status` and an Anthropic error body of `errorType`.
 */
export type MockApiScript = { kind: "fix-readme"; cwd: string } | { kind: "error"; status: number; errorType: string; message: string };

export interface MockApi {
  url: string;
  /** Messages requests served so far (each model turn is one). */
  requests: () => number;
  close: () => Promise<void>;
}

type Block = { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

export async function startMockAnthropicApi(script: MockApiScript): Promise<MockApi> {
  let requests = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      if (!req.url?.startsWith("/v1/messages")) return void res.writeHead(404).end("{}");
      if (req.url.includes("count_tokens")) return json(res, 200, { input_tokens: 10 });
      requests++;
      if (script.kind === "error") {
        return json(res, script.status, { type: "error", error: { type: script.errorType, message: script.message }, request_id: "req_mock" });
      }
      const request = JSON.parse(body) as { model: string; messages: unknown[]; tools?: unknown[] };
      // Side requests (titles, summaries) carry no tools; answer them with plain text.
      if (!request.tools?.length) return sse(res, request.model, [{ type: "text", text: "Fix README typo" }], "end_turn");
      const [blocks, stop] = fixReadmeTurn(request.messages.length, script.cwd);
      sse(res, request.model, blocks, stop);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The conversation grows by two messages (tool_use, tool_result) per turn. */
function fixReadmeTurn(messages: number, cwd: string): [Block[], string] {
  const file = `${cwd}/README.md`;
  if (messages <= 1)
    return [
      [
        { type: "text", text: "I'll look at the README first." },
        { type: "tool_use", id: "toolu_mock_read", name: "Read", input: { file_path: file } },
      ],
      "tool_use",
    ];
  if (messages <= 3)
    return [
      [{ type: "tool_use", id: "toolu_mock_edit", name: "Edit", input: { file_path: file, old_string: "# Helo world", new_string: "# Hello world" } }],
      "tool_use",
    ];
  if (messages <= 5) {
    const command = "git add README.md && git commit -m 'Fix typo in README heading'";
    return [[{ type: "tool_use", id: "toolu_mock_bash", name: "Bash", input: { command, description: "Commit the fix" } }], "tool_use"];
  }
  return [[{ type: "text", text: 'Fixed the typo in the README heading ("Helo" → "Hello") and committed it.' }], "end_turn"];
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "request-id": "req_mock" }).end(JSON.stringify(body));
}

/** A streamed Messages response, event by event as the real API sends it. */
function sse(res: ServerResponse, model: string, blocks: Block[], stopReason: string): void {
  res.writeHead(200, { "content-type": "text/event-stream", "request-id": "req_mock" });
  const event = (type: string, data: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const usage = { input_tokens: 1500, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  event("message_start", {
    message: { id: `msg_mock_${Date.now()}`, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage },
  });
  blocks.forEach((block, index) => {
    if (block.type === "text") {
      event("content_block_start", { index, content_block: { type: "text", text: "" } });
      event("content_block_delta", { index, delta: { type: "text_delta", text: block.text } });
    } else {
      event("content_block_start", { index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
      event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) } });
    }
    event("content_block_stop", { index });
  });
  event("message_delta", { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 50 } });
  event("message_stop", {});
  res.end();
}
