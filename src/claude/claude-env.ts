/**
 * The environment Claude runs with, built from the agent's own: an allowlist, so that the
 * agent's secrets (Redis URL and password, API token, GitHub tokens, SSH agent, webhook secret,
 * app key) never reach Claude or the tools it runs on issue text anyone may have written.
 */

/** Names passed as they are: what the CLI, git and the tools Claude runs need to work. */
const PASSED_NAMES = new Set([
  // The user and the terminal.
  ...["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TERM", "TMPDIR", "TZ"],
  // Proxies and a corporate CA.
  ...["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy", "NODE_EXTRA_CA_CERTS"],
  // Who commits, when git has no user configured.
  ...["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"],
  // Claude Code settings documented under plain names (code.claude.com/docs/en/env-vars).
  ...[
    "API_TIMEOUT_MS",
    "MAX_THINKING_TOKENS",
    "BASH_DEFAULT_TIMEOUT_MS",
    "BASH_MAX_TIMEOUT_MS",
    "BASH_MAX_OUTPUT_LENGTH",
    "MCP_TIMEOUT",
    "MCP_TOOL_TIMEOUT",
    "MAX_MCP_OUTPUT_TOKENS",
    "USE_BUILTIN_RIPGREP",
  ],
]);

/**
 * Cloud credentials pass only when the agent's Claude runs on that cloud: an agent PC's AWS or
 * Google keys for other work never reach Claude otherwise.
 */
const BEDROCK = { switch: "CLAUDE_CODE_USE_BEDROCK", prefixes: ["AWS_"], names: [] as string[] };
const VERTEX = {
  switch: "CLAUDE_CODE_USE_VERTEX",
  prefixes: ["VERTEX_REGION_"],
  names: ["CLOUD_ML_REGION", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CONFIG"],
};

/**
 * Name prefixes passed: locale (`LC_`), Claude's login and configuration (`ANTHROPIC_`,
 * `CLAUDE_`: `CLAUDE_CONFIG_DIR`, `CLAUDE_CODE_*`, `CLAUDE_CODE_USE_BEDROCK`/`_VERTEX`,
 * `CLAUDE_CODE_OAUTH_TOKEN`) and the CLI's documented switches (`DISABLE_`).
 */
const PASSED_PREFIXES = ["LC_", "ANTHROPIC_", "CLAUDE_", "DISABLE_"];

/**
 * Never passed, even when `CCC_CLAUDE_ENV_PASS` names them: the agent's own settings and
 * secrets. `CLAUDE_BIN` is the agent's setting (which CLI to start), not the CLI's. `REDIS_`
 * covers the cluster's Redis settings: REDIS_URL, REDIS_SENTINELS, REDIS_SENTINEL_NAME,
 * REDIS_SENTINEL_PASSWORD, REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS_CA.
 */
const NEVER_NAMES = new Set([
  "REDIS_URL",
  "REDIS_PASSWORD",
  "REDIS_SENTINEL_PASSWORD",
  "GH_TOKEN",
  "GITHUB_TOKEN",
  "SSH_AUTH_SOCK",
  "WEBHOOK_SECRET",
  "APP_ID",
  "CLAUDE_BIN",
]);
const NEVER_PREFIXES = ["CCC_", "PRIVATE_KEY", "REDIS_"];

/**
 * Claude Code's own telemetry switches: passed only when the owner names them in
 * `CCC_CLAUDE_ENV_PASS` (with the `OTEL_*` settings Claude should export with), although they
 * start `CLAUDE_`. Claude's spans carry the account's e-mail address (docs/observability.md).
 */
const OPT_IN_NAMES = new Set(["CLAUDE_CODE_ENABLE_TELEMETRY", "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA"]);

/**
 * Never passed from the agent's own environment: the run's trace context is given per run
 * (`traceEnv` in src/telemetry/trace-env.ts), never one the agent was started with.
 */
const PER_RUN_NAMES = new Set(["TRACEPARENT", "TRACESTATE"]);

/** The agent owner's extra names or `PREFIX_*` patterns, comma-separated, e.g. `JAVA_HOME,NVM_*`. */
export const CLAUDE_ENV_PASS = "CCC_CLAUDE_ENV_PASS";

/** Claude's environment from the agent's (`process.env`): only allowlisted variables. Pure. */
export function claudeEnv(parent: NodeJS.ProcessEnv): Record<string, string> {
  const extra = ownerPatterns(parent[CLAUDE_ENV_PASS]);
  const clouds = [BEDROCK, VERTEX].filter((cloud) => truthy(parent[cloud.switch]));
  const cloud = (name: string) => clouds.some((c) => c.names.includes(name) || c.prefixes.some((prefix) => name.startsWith(prefix)));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || never(name) || PER_RUN_NAMES.has(name)) continue;
    if (OPT_IN_NAMES.has(name)) {
      if (extra(name)) env[name] = value;
      continue;
    }
    if (PASSED_NAMES.has(name) || PASSED_PREFIXES.some((prefix) => name.startsWith(prefix)) || cloud(name) || extra(name)) env[name] = value;
  }
  return env;
}

/** Claude Code's switches are on for any value but empty, `0` and `false`. */
function truthy(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

function never(name: string): boolean {
  return NEVER_NAMES.has(name) || NEVER_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** `A,B_*` → matches `A` and names starting `B_`. A bare `*` matches nothing: it would undo the allowlist. */
function ownerPatterns(list: string | undefined): (name: string) => boolean {
  const patterns = (list ?? "")
    .split(",")
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern !== "" && pattern !== "*");
  const names = new Set(patterns.filter((pattern) => !pattern.endsWith("*")));
  const prefixes = patterns.filter((pattern) => pattern.endsWith("*")).map((pattern) => pattern.slice(0, -1));
  return (name) => names.has(name) || prefixes.some((prefix) => name.startsWith(prefix));
}
