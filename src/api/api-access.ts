import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError } from "../config/env-error.js";

/** How requests to the control API are let in. */
export type ApiAccess = { kind: "token"; token: string } | { kind: "open-loopback" };

/** `localhost`, 127.0.0.0/8 and ::1. Unset is Probot's default host, `localhost`. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined || host === "" || host === "localhost") return true;
  return /^127(\.\d{1,3}){3}$/.test(host) || host === "::1" || host === "[::1]";
}

/**
 * Decides the API's access rule at start. Without a token the API would let anyone steer
 * the cluster, so that is refused unless explicitly allowed and only reachable from this host.
 */
export function resolveApiAccess(settings: { token?: string | undefined; allowNoToken?: "loopback-only" | undefined; host?: string | undefined }): ApiAccess {
  if (settings.token) return { kind: "token", token: settings.token };
  if (settings.allowNoToken === "loopback-only") {
    if (isLoopbackHost(settings.host)) return { kind: "open-loopback" };
    throw new ConfigError(
      `CCC_API_ALLOW_NO_TOKEN set to loopback-only needs the app to listen on loopback, but HOST is ${settings.host}. Set CCC_API_TOKEN, or HOST=127.0.0.1.`,
    );
  }
  throw new ConfigError(
    "CCC_API_TOKEN is not set, and the control API (/api/v1, /metrics, /dashboard) will not run open. Set CCC_API_TOKEN to a long random value (openssl rand -hex 32), or, on a machine where only you can reach loopback, CCC_API_ALLOW_NO_TOKEN set to loopback-only with HOST=127.0.0.1.",
  );
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * Whether an `Authorization: Bearer …` header carries the token. Hashing both sides first
 * makes the comparison constant-time whatever the lengths.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  const given = match?.[1] ?? "";
  return timingSafeEqual(digest(given), digest(token)) && given !== "";
}

/** Whether a request may use the API under `access`. */
export function requestAllowed(access: ApiAccess, authorization: string | undefined): boolean {
  return access.kind === "open-loopback" || bearerMatches(authorization, access.token);
}
