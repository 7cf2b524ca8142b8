import { ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import type { Probot } from "probot";
import { withSpan } from "../telemetry/tracer.js";

/** What of a payload a delivery's span may carry: ids, names and numbers. */
interface PayloadIds {
  action?: unknown;
  repository?: { full_name?: unknown };
  installation?: { id?: unknown };
  issue?: { number?: unknown };
  pull_request?: { number?: unknown };
  number?: unknown;
}

/**
 * Each webhook delivery is the SERVER-kind root of a new trace (`webhook issues.labeled`),
 * active while every handler runs, so the classification, the enqueue and the task's job data
 * are in it. Wraps this app's `verifyAndReceive`, as instrumentWebhooks does for the metrics.
 */
export function traceDeliveries(app: Probot): void {
  const webhooks = app.webhooks;
  const verifyAndReceive = webhooks.verifyAndReceive.bind(webhooks);
  webhooks.verifyAndReceive = (options) =>
    withSpan(
      `webhook ${String(options.name)}`,
      {
        kind: SpanKind.SERVER,
        parent: ROOT_CONTEXT,
        attributes: { "github.event": String(options.name), "github.delivery_id": String(options.id) },
      },
      () => verifyAndReceive(options),
    );
  // The payload is parsed once, by Probot, before the handlers: the first handler names what it is about.
  app.webhooks.onAny(({ payload }) => {
    const span = trace.getActiveSpan();
    if (!span?.isRecording()) return;
    const ids = payload as PayloadIds;
    const number = ids.issue?.number ?? ids.pull_request?.number ?? ids.number;
    span.setAttributes({
      ...(typeof ids.action === "string" ? { "github.action": ids.action } : {}),
      ...(typeof ids.repository?.full_name === "string" ? { "github.repository": ids.repository.full_name } : {}),
      ...(typeof ids.installation?.id === "number" ? { "github.installation_id": ids.installation.id } : {}),
      ...(typeof number === "number" ? { "github.issue.number": number } : {}),
    });
  });
}
