import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./agent-process.js";
import { freePort, PRIVATE_KEY, WEBHOOK_SECRET } from "./app-server.js";

export const API_TOKEN = "test-api-token-0123456789abcdef";

export interface AppProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  base: string;
  output(): string;
  /** GET or POST with the API token (or `token` to override, null for none). */
  request(path: string, options?: { method?: string; token?: string | null; body?: unknown }): Promise<Response>;
  stop(): Promise<number | null>;
}

/**
 * The app from its source (`npm run dev`, tsx src/app/main.ts) as a real child process with its
 * own port and prefix; or, given `entry`, a built app (`node <entry>`, run from its folder's parent).
 */
export async function startAppProcess(options: { prefix: string; env?: Record<string, string | undefined>; entry?: string }): Promise<AppProcess> {
  const port = await freePort();
  const [command, args, cwd] = options.entry
    ? [process.execPath, [options.entry], join(options.entry, "../../..")]
    : [join(REPO_ROOT, "node_modules/.bin/tsx"), ["src/app/main.ts"], REPO_ROOT];
  const child = spawn(command, args, {
    cwd,
    env: appProcessEnv(options.prefix, port, options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 25_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the app exited at start:\n${output}`);
    const ok = await fetch(`${base}/api/v1/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the app did not answer /api/v1/health:\n${output}`);
    await new Promise((r) => setTimeout(r, 150));
  }

  return {
    child,
    base,
    output: () => output,
    request: (path, { method = "GET", token = API_TOKEN, body } = {}) =>
      fetch(`${base}${path}`, {
        method,
        headers: { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** The environment the test helpers start the app with: a registered app on `port`, Redis and `prefix`. */
export function appProcessEnv(prefix: string, port: number, env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: "production",
    APP_ID: "1",
    PRIVATE_KEY,
    WEBHOOK_SECRET,
    PORT: String(port),
    HOST: "127.0.0.1",
    REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    CCC_PREFIX: prefix,
    CCC_API_TOKEN: API_TOKEN,
    LOG_LEVEL: "info",
    ...env,
  };
}
