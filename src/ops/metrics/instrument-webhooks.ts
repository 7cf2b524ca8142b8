import type { Probot } from "probot";
import type { AppMetrics } from "./app-metrics.js";

/**
 * Counts deliveries and times them from arrival (body read) to answer. Probot's middleware
 * answers right after `verifyAndReceive` settles, so wrapping that one method of this app's
 * Webhooks instance measures what GitHub waits for: signature check plus every handler.
 */
export function instrumentWebhooks(app: Probot, metrics: AppMetrics): void {
  const webhooks = app.webhooks;
  const verifyAndReceive = webhooks.verifyAndReceive.bind(webhooks);
  webhooks.verifyAndReceive = async (options) => {
    const event = String(options.name);
    const end = metrics.webhookDuration.startTimer({ event });
    try {
      await verifyAndReceive(options);
      metrics.webhookDeliveries.inc({ event, outcome: "ok" });
    } catch (error) {
      metrics.webhookDeliveries.inc({ event, outcome: "error" });
      throw error;
    } finally {
      end();
    }
  };
}
