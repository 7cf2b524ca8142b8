import type { ConfigPair } from "../../../src/workspace/git-hardening.js";

/** `x-access-token:<token>` in base64, the Basic credential GitHub takes for an app or job token. */
export function basicCredential(token: string): string {
  return Buffer.from(`x-access-token:${token}`, "utf8").toString("base64");
}

/**
 * The config that lets one git fetch or push use the job's token: an Authorization header
 * scoped to the GitHub server (`http.<scheme>://<host>[:port]/.extraheader`), as
 * actions/checkout writes it, but handed to that git process through its environment
 * (GIT_CONFIG_COUNT) instead of `.git/config`, where Claude's Read tool would find it.
 * Scoped to the server, it is not sent when the remote points anywhere else. The empty value
 * first clears headers the config files set for that URL: two Authorization headers get a 400.
 */
export function gitCredentialConfig(token: string, serverUrl: string): ConfigPair[] {
  const key = `http.${new URL(serverUrl).origin}/.extraheader`;
  return [
    [key, ""],
    [key, `AUTHORIZATION: basic ${basicCredential(token)}`],
  ];
}
