import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";

/** `.env` in the directory the app was started from, where Probot's setup page writes it. */
export function dotEnvPath(cwd: string = process.cwd()): string {
  return join(cwd, ".env");
}

/**
 * Reads `.env` into `env` the way the usual tools do: a variable already set in the shell
 * wins over the file. (Probot's own loader lets the file win; the app reads its settings
 * through this first and hands Probot the merged result.) Returns the names it set.
 */
export function loadDotEnv(path: string = dotEnvPath(), env: NodeJS.ProcessEnv = process.env): string[] {
  if (!existsSync(path)) return [];
  const loaded: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(readFileSync(path, "utf8")))) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    loaded.push(name);
  }
  return loaded;
}

/**
 * First run (no APP_ID yet: Probot's setup page is about to register the app): gives the
 * control API a random bearer token in `.env`, so that after the setup page has written the
 * app's credentials there too, the restart the README asks for ends with a working
 * `/api/v1`, `/metrics` and dashboard. Returns the token, or undefined if one was set.
 */
export function ensureApiToken(path: string = dotEnvPath(), env: NodeJS.ProcessEnv = process.env): string | undefined {
  return ensureRandomSetting("CCC_API_TOKEN", path, env);
}

/**
 * First run, as for the API token: a random `CCC_TASK_SECRET` in `.env`, which the app signs
 * tasks with; the agents need a copy. Returns it, or undefined if one was set.
 */
export function ensureTaskSecret(path: string = dotEnvPath(), env: NodeJS.ProcessEnv = process.env): string | undefined {
  return ensureRandomSetting("CCC_TASK_SECRET", path, env);
}

/** Appends `name=<64 random hex digits>` to `.env` (mode 0600) unless `name` is set already. */
function ensureRandomSetting(name: string, path: string, env: NodeJS.ProcessEnv): string | undefined {
  if (env[name]) return undefined;
  const value = randomBytes(32).toString("hex");
  const before = existsSync(path) ? readFileSync(path, "utf8") : "";
  appendFileSync(path, `${before === "" || before.endsWith("\n") ? "" : "\n"}${name}=${value}\n`, { mode: 0o600 });
  env[name] = value;
  return value;
}
