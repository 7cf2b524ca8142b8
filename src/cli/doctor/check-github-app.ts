import { createPrivateKey, createSign, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { CheckResult } from "./check.js";

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/** PRIVATE_KEY as Probot reads it: PEM, PEM with literal `\n`, or base64 of the PEM; else PRIVATE_KEY_PATH. */
async function readKey(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (env.PRIVATE_KEY) {
    const text = env.PRIVATE_KEY.replace(/\\n/g, "\n");
    return text.includes("-----BEGIN") ? text : Buffer.from(text, "base64").toString("utf8");
  }
  if (env.PRIVATE_KEY_PATH) return readFile(env.PRIVATE_KEY_PATH, "utf8");
  return undefined;
}

/** A GitHub App JWT (RS256), valid for a minute, backdated for clock drift. */
export function appJwt(appId: string, key: KeyObject, now = Date.now()): string {
  const iat = Math.floor(now / 1000) - 30;
  const unsigned = `${base64url(JSON.stringify({ alg: "RS256", typ: "JWT" }))}.${base64url(JSON.stringify({ iat, exp: iat + 90, iss: appId }))}`;
  return `${unsigned}.${createSign("RSA-SHA256").update(unsigned).sign(key).toString("base64url")}`;
}

/**
 * The app's settings are present and the key parses; then, when GitHub can be reached,
 * GET /app with a JWT proves APP_ID and the key belong together. Offline, that part is skipped.
 */
export async function checkGitHubApp(env: NodeJS.ProcessEnv, fetchImpl: typeof fetch = fetch): Promise<CheckResult[]> {
  const present = ["APP_ID", "WEBHOOK_SECRET"].filter((k) => env[k]);
  const hasKey = Boolean(env.PRIVATE_KEY || env.PRIVATE_KEY_PATH);
  if (present.length === 0 && !hasKey) {
    return [
      {
        name: "github app",
        status: "skip",
        detail: "APP_ID, PRIVATE_KEY and WEBHOOK_SECRET are not set here",
        fix: "run `ccc doctor` with the app's environment on the machine that runs `npm start`",
      },
    ];
  }
  const missing = [...["APP_ID", "WEBHOOK_SECRET"].filter((k) => !env[k]), ...(hasKey ? [] : ["PRIVATE_KEY or PRIVATE_KEY_PATH"])];
  if (missing.length > 0)
    return [
      {
        name: "github app settings",
        status: "fail",
        detail: `missing: ${missing.join(", ")}`,
        fix: "copy them from the app's settings page on GitHub (or run `npm start` without APP_ID to register the app)",
      },
    ];
  let key: KeyObject;
  try {
    key = createPrivateKey((await readKey(env)) ?? "");
  } catch (error) {
    return [
      {
        name: "github app key",
        status: "fail",
        detail: `the private key does not parse: ${(error as Error).message}`,
        fix: "set PRIVATE_KEY to the .pem GitHub generated (PEM text or base64 of it), or PRIVATE_KEY_PATH to the file",
      },
    ];
  }
  const results: CheckResult[] = [
    { name: "github app settings", status: "ok", detail: `APP_ID ${env.APP_ID}, key ${key.asymmetricKeyType ?? "?"} parses, WEBHOOK_SECRET set` },
  ];
  const api = env.GHE_HOST ? `${env.GHE_PROTOCOL ?? "https"}://${env.GHE_HOST}/api/v3` : "https://api.github.com";
  try {
    const response = await fetchImpl(`${api}/app`, {
      headers: { authorization: `Bearer ${appJwt(env.APP_ID!, key)}`, accept: "application/vnd.github+json", "user-agent": "ccc-doctor" },
      signal: AbortSignal.timeout(5_000),
    });
    if (response.ok) {
      const app = (await response.json()) as { slug?: string; name?: string };
      results.push({ name: "github app auth", status: "ok", detail: `GitHub knows the app as ${app.slug ?? app.name ?? "?"}` });
    } else {
      results.push({
        name: "github app auth",
        status: "fail",
        detail: `GET /app answered ${response.status}`,
        fix: "APP_ID and the private key do not belong together, or the key was revoked: generate a new key on the app's settings page",
      });
    }
  } catch (error) {
    results.push({
      name: "github app auth",
      status: "skip",
      detail: `GitHub not reachable (${(error as Error).message}); the key was not verified against it`,
    });
  }
  return results;
}
