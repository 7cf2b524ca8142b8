/**
 * Patterns of secrets that must never reach a log line, whatever field or message carries
 * them: GitHub tokens (installation `ghs_`, personal `ghp_`/`github_pat_`, OAuth `gho_`,
 * user-to-server `ghu_`, refresh `ghr_`), bearer/token authorization values, and PEM keys
 * (also in their JSON-escaped one-line form).
 */
const SECRET_PATTERNS: readonly RegExp[] = [
  /-----BEGIN[A-Z ]*PRIVATE KEY-----[\s\S]*?-----END[A-Z ]*PRIVATE KEY-----/g,
  /\b(gh[pousr]_[A-Za-z0-9]{16,255}|github_pat_[A-Za-z0-9_]{20,255})\b/g,
  /\b(bearer|token)\s+[A-Za-z0-9._~+/=-]{16,}/gi,
  /\b(sk-ant-[A-Za-z0-9_-]{10,})/g,
];

/** Replaces every secret-looking substring with `[redacted]`. Pure. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, "[redacted]");
  return out;
}
