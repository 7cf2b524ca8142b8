import { fork } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { Agent, request } from "node:http";
import { fileURLToPath } from "node:url";
import { labeledPayload } from "../test/helpers/payloads.js";

export type LoadMode = { kind: "closed"; concurrency: number } | { kind: "open"; perSecond: number };

export interface LoadJob {
  url: string;
  secret: string;
  owner: string;
  repo: string;
  /** Deliveries use issue numbers firstIssue, firstIssue + 1, …: one live task per issue. */
  firstIssue: number;
  count: number;
  mode: LoadMode;
}

export interface LoadResult {
  /** First send to last answer. */
  elapsedMs: number;
  /** Per delivery: answer received minus request started (closed) or minus its scheduled time (open). */
  latenciesMs: number[];
  /** Open loop only: how late the client started each request against its schedule. */
  sendLagMs: number[];
  statuses: Record<string, number>;
  /** CPU time (user + system) the client process spent from first send to last answer. */
  cpuMs: number;
}

/**
 * Runs one load phase in a child process, so the client's own CPU (JSON, HMAC, sockets) runs
 * beside the app's event loop instead of inside it, as GitHub's would.
 */
export function runLoad(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ["--child"], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let settled = false;
    child.once("message", (message: { result?: LoadResult; error?: string }) => {
      settled = true;
      if (message.result) resolve(message.result);
      else reject(new Error(`load client failed: ${message.error}`));
      child.disconnect();
    });
    child.once("exit", (code) => {
      if (!settled) reject(new Error(`load client exited with code ${code} before answering`));
    });
    child.send(job);
  });
}

interface Prepared {
  body: Buffer;
  headers: Record<string, string | number>;
}

/** Payloads are built and signed before the clock starts: GitHub does that work, not the app. */
function prepare(job: LoadJob): Prepared[] {
  const out: Prepared[] = [];
  for (let i = 0; i < job.count; i++) {
    const payload = labeledPayload("claude", { owner: job.owner, repo: job.repo, number: job.firstIssue + i });
    const body = Buffer.from(JSON.stringify(payload));
    out.push({
      body,
      headers: {
        "content-type": "application/json",
        "content-length": body.length,
        "user-agent": "GitHub-Hookshot/bench",
        "x-github-event": "issues",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": `sha256=${createHmac("sha256", job.secret).update(body).digest("hex")}`,
      },
    });
  }
  return out;
}

function send(url: URL, agent: Agent, delivery: Prepared): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", agent, headers: delivery.headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(delivery.body);
  });
}

async function runJob(job: LoadJob): Promise<LoadResult> {
  const deliveries = prepare(job);
  const url = new URL(job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.mode.kind === "closed" ? job.mode.concurrency : Infinity });
  const latenciesMs: number[] = [];
  const sendLagMs: number[] = [];
  const statuses: Record<string, number> = {};
  const count = (status: number) => (statuses[String(status)] = (statuses[String(status)] ?? 0) + 1);
  const cpu = process.cpuUsage();
  const started = performance.now();

  if (job.mode.kind === "closed") {
    let next = 0;
    const client = async () => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++]!;
        const t0 = performance.now();
        count(await send(url, agent, delivery));
        latenciesMs.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: job.mode.concurrency }, client));
  } else {
    // Open loop: deliveries leave on a fixed schedule whatever the app's answers take, and
    // latency counts from the scheduled time, so a stalled app cannot hide its queueing delay.
    const interval = 1000 / job.mode.perSecond;
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < deliveries.length; i++) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      sendLagMs.push(performance.now() - due);
      inFlight.push(
        send(url, agent, deliveries[i]!).then((status) => {
          count(status);
          latenciesMs.push(performance.now() - due);
        }),
      );
    }
    await Promise.all(inFlight);
  }
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  agent.destroy();
  return { elapsedMs, latenciesMs, sendLagMs, statuses, cpuMs: (used.user + used.system) / 1000 };
}

if (process.argv.includes("--child") && process.send) {
  process.once("message", (job: LoadJob) => {
    runJob(job)
      .then((result) => process.send!({ result }))
      .catch((error: Error) => process.send!({ error: error.stack ?? error.message }));
  });
}
