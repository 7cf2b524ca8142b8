import { ConfigError } from "../config/env-error.js";

/**
 * Once the app is registered (APP_ID set), webhooks must be verified against its real secret:
 * without WEBHOOK_SECRET Probot would accept anything signed with the word `development`.
 * Before registration Probot serves its setup page, which needs no secret.
 */
export function requireWebhookSecret(settings: NodeJS.ProcessEnv): void {
  if (!settings.APP_ID || settings.WEBHOOK_SECRET) return;
  throw new ConfigError(
    "WEBHOOK_SECRET is not set, so webhooks could not be verified: set it in .env or the shell to the Webhook secret of the GitHub App (its settings page on GitHub), then start the app again.",
  );
}
