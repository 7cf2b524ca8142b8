import { UserFacingError } from "../shared/user-facing-error.js";

/** `WEBHOOK_PROXY_URL` is set but its channel could not be reached when the app started. */
export class WebhookProxyError extends UserFacingError {
  override readonly name = "WebhookProxyError";
  declare readonly code: "webhook-proxy-unreachable";
  constructor(message: string) {
    super(message, { code: "webhook-proxy-unreachable" });
  }
}

/**
 * Probot starts smee-client itself when `WEBHOOK_PROXY_URL` is set, after the server listens,
 * and fails the start with the EventSource's bare `ErrorEvent` (`fetch failed`, `Non-200
 * status code (404)`) when the channel does not answer. That failure becomes one line naming
 * the variable and the fix; any other start-up error is returned as it was.
 */
export function explainWebhookProxyFailure(error: unknown, proxyUrl: string | undefined): unknown {
  if (!proxyUrl || !(error instanceof Event)) return error;
  const reason = "message" in error && typeof error.message === "string" && error.message !== "" ? error.message : "no answer";
  return new WebhookProxyError(
    `WEBHOOK_PROXY_URL=${proxyUrl} could not be reached (${reason}), so no webhook would arrive: check the channel's URL (make one at https://smee.io/new), or remove WEBHOOK_PROXY_URL where GitHub can reach this app itself.`,
  );
}
