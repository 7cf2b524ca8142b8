/** What a redacted secret becomes, everywhere: log lines, prompts, git errors, GitHub comments. */
export const REDACTED = "[redacted]";

export interface SecretPattern {
  /** What the pattern catches, for tests and docs. */
  name: string;
  /** Global regular expression; its first group, when it has one, is kept in front of the marker. */
  pattern: RegExp;
}

/** The value of an `Authorization`-style word: one run of token characters, with a digit or long. */
const AUTH_VALUE = String.raw`(?=[A-Za-z0-9._~+/=-]*\d|[A-Za-z0-9._~+/=-]{24})[A-Za-z0-9._~+/=-]{16,}`;

/**
 * The one table of secret shapes. The logger scrubs every line with it, the prompt builder
 * every issue text, the workspace every git message, the reporter everything Claude or the
 * CLI wrote before it goes to GitHub. A shape added here is caught in all four places.
 */
export const SECRET_PATTERNS: readonly SecretPattern[] = [
  // An unterminated key (a cut message) is redacted up to a quote or the end of the text.
  { name: "PEM private key", pattern: /-----BEGIN[A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z ]*PRIVATE KEY-----|(?=["'`]|$))/g },
  // Installation ghs_, personal ghp_ and github_pat_, OAuth gho_, user-to-server ghu_, refresh ghr_.
  { name: "GitHub token", pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{16,255}|github_pat_[A-Za-z0-9_]{20,255})/g },
  { name: "Anthropic API key", pattern: /\bsk-ant-[A-Za-z0-9_-]{10,}/g },
  { name: "AWS access key id", pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g },
  { name: "Slack token", pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g },
  { name: "authorization value", pattern: new RegExp(String.raw`\b((?:bearer|token|basic)\s+)${AUTH_VALUE}`, "gi") },
  // `https://x-access-token:ghs_…@github.com`, `redis://:password@host`. The bounded scheme keeps long dotted words linear.
  { name: "credentials in a URL", pattern: /\b([a-z][a-z0-9+.-]{0,31}:\/\/)[^/@\s"'<>]+@/gi },
  { name: "secret in a query string", pattern: /([?&](?:access_token|token|api_key|apikey|client_secret|password|secret)=)[^&\s#"'<>]+/gi },
  // Upper-case, env-style only (`AWS_SECRET_ACCESS_KEY=…`): `password: string` in code is not a secret.
  {
    name: "secret environment assignment",
    pattern: /\b([A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]*=["']?)[^\s"'$]{8,}/g,
  },
];

/** Replaces every secret-looking substring with `[redacted]`, keeping the word or URL part in front of it. Pure. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const { pattern } of SECRET_PATTERNS) {
    out = out.replace(pattern, (...args: unknown[]) => {
      const kept = typeof args[1] === "string" ? args[1] : "";
      return kept + (kept.endsWith("://") ? `${REDACTED}@` : REDACTED);
    });
  }
  return out;
}
