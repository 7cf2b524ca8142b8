/**
 * Reading Octokit's RequestError by shape (it carries `status` and `response.headers`), so
 * the reporter can tell "gone", "slow down" and "try again" apart without importing a
 * transitive package.
 */

interface ResponseLike {
  headers?: Record<string, string | number | undefined>;
}

export function httpStatus(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("status" in error)) return undefined;
  return typeof error.status === "number" ? error.status : undefined;
}

function header(error: unknown, name: string): string | undefined {
  if (typeof error !== "object" || error === null || !("response" in error)) return undefined;
  const response = error.response as ResponseLike | undefined;
  const value = response?.headers?.[name];
  return value === undefined ? undefined : String(value);
}

/** The comment, label or issue is gone: 404, or 410 for a deleted issue. */
export function isGone(error: unknown): boolean {
  const status = httpStatus(error);
  return status === 404 || status === 410;
}

/** A secondary limit without a hint waits a minute, as GitHub's docs advise. */
const SECONDARY_LIMIT_WAIT_MS = 60_000;
/** Never park an event longer than the primary window. */
const MAX_WAIT_MS = 3_600_000;

/**
 * When GitHub says "slow down" (429, or 403 with a rate-limit header), the time to try
 * again; undefined for any other error.
 */
export function rateLimitedUntil(error: unknown, now: number): number | undefined {
  const status = httpStatus(error);
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = Number(header(error, "retry-after"));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return now + Math.min(retryAfter * 1000, MAX_WAIT_MS);
  if (header(error, "x-ratelimit-remaining") === "0") {
    const reset = Number(header(error, "x-ratelimit-reset")) * 1000;
    if (Number.isFinite(reset) && reset > now) return Math.min(reset + 1000, now + MAX_WAIT_MS);
  }
  const message = error instanceof Error ? error.message : "";
  if (status === 429 || /secondary rate limit/i.test(message)) return now + SECONDARY_LIMIT_WAIT_MS;
  return undefined;
}

/**
 * GitHub is down or out of reach: a 5xx, or no answer at all (Octokit reports a refused
 * connection or a timeout as 500). The reporter retries these without limit.
 */
export function isGitHubUnavailable(error: unknown): boolean {
  const status = httpStatus(error);
  return status !== undefined && (status >= 500 || status === 408);
}

/** POST /pulls refused because an open pull request for that head exists already. */
export function isPullRequestExists(error: unknown): boolean {
  if (httpStatus(error) !== 422) return false;
  // Octokit puts GitHub's `errors[].message` into the error's message.
  return /a pull request already exists for/i.test(error instanceof Error ? error.message : String(error));
}

/** Network errors and GitHub 5xx may succeed later; other 4xx (no permission, invalid) will not. */
export function isRetryable(error: unknown): boolean {
  const status = httpStatus(error);
  if (status === undefined) return true;
  return status >= 500 || status === 408 || status === 409 || status === 429;
}
