import { fork, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
const HOST = join(ROOT, "bench/scale-agents.ts");
/** 1,000 agents start in about a minute on 2 cores; this only bounds a host that hangs. */
const START_TIMEOUT_MS = 10 * 60_000;
const STOP_TIMEOUT_MS = 60_000;

export interface AgentHosts {
  pids: number[];
  /** The slowest host's time from fork to every one of its agents started. */
  startMs: number;
  /** Every host's agents leave the registry, then the hosts exit; one that does not is killed. */
  stop(): Promise<void>;
  /** Each host's event-loop delay (ms) since the last call. */
  loopDelay(): Promise<LoopDelay[]>;
}

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

type HostMessage =
  { type: "ready"; agents: number; startMs: number } | { type: "stopped" } | { type: "error"; message: string } | ({ type: "loop-delay" } & LoopDelay);

/**
 * `agents` simulated agents (bench/scale-agents.ts) spread over `hosts` Node processes, as
 * evenly as they divide, each process with the target's Redis settings in its environment.
 */
export async function startAgentHosts(options: {
  agents: number;
  hosts: number;
  env: Record<string, string | undefined>;
  prefix: string;
  secret: string;
  workdir: string;
}): Promise<AgentHosts> {
  const children: ChildProcess[] = [];
  const t0 = performance.now();
  const per = Math.ceil(options.agents / options.hosts);
  const ready: Array<Promise<void>> = [];
  for (let first = 0; first < options.agents; first += per) {
    const child = fork(HOST, [], {
      cwd: ROOT,
      execArgv: ["--import", "tsx"],
      env: {
        ...process.env,
        REDIS_SENTINELS: "",
        ...options.env,
        SCALE_PREFIX: options.prefix,
        SCALE_SECRET: options.secret,
        SCALE_FIRST: String(first),
        SCALE_COUNT: String(Math.min(per, options.agents - first)),
        SCALE_WORKDIR: options.workdir,
      },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    children.push(child);
    ready.push(
      new Promise<void>((resolvePromise, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`agent host ${child.pid} did not start its agents within ${START_TIMEOUT_MS / 1000} s`)),
          START_TIMEOUT_MS,
        );
        child.on("message", (message: HostMessage) => {
          if (message.type === "ready") {
            clearTimeout(timer);
            resolvePromise();
          } else if (message.type === "error") {
            clearTimeout(timer);
            reject(new Error(`agent host ${child.pid} failed: ${message.message}`));
          }
        });
        child.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`agent host ${child.pid} exited with ${code} before its agents started`));
        });
      }),
    );
  }
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolvePromise) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolvePromise();
            const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
            child.once("exit", () => {
              clearTimeout(timer);
              resolvePromise();
            });
            if (child.connected) child.send({ type: "stop" });
            else child.kill("SIGTERM");
          }),
      ),
    );
  };
  try {
    await Promise.all(ready);
  } catch (error) {
    await stop();
    throw error;
  }
  const loopDelay = () =>
    Promise.all(
      children.map(
        (child) =>
          new Promise<LoopDelay>((resolvePromise) => {
            const onMessage = (message: HostMessage) => {
              if (message.type !== "loop-delay") return;
              child.off("message", onMessage);
              resolvePromise({ p50: message.p50, p99: message.p99, max: message.max });
            };
            child.on("message", onMessage);
            child.send({ type: "loop-delay" });
          }),
      ),
    );
  return { pids: children.map((child) => child.pid!), startMs: performance.now() - t0, stop, loopDelay };
}
