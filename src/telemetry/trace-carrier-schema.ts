import { z } from "zod";

/** `version-traceid-spanid-flags`, lower-case hex, as W3C Trace Context writes it. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * A span's context as it travels through Redis (a task's job data, a reporter event): the W3C
 * `traceparent` and `tracestate` headers, nothing else. Ids only, never what a user wrote.
 */
export const traceCarrierSchema = z.object({
  /** `00-<trace id>-<span id>-<flags>`. */
  traceparent: z.string().regex(TRACEPARENT, "a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)"),
  /** Vendor key=value pairs; the W3C limit is 32 members, 512 characters is plenty. */
  tracestate: z.string().max(512).optional(),
});

export type TraceCarrier = z.infer<typeof traceCarrierSchema>;

/** The trace id a carrier names (a task record's `traceId`). */
export function traceIdOf(carrier: TraceCarrier | undefined): string | undefined {
  return carrier?.traceparent.split("-")[1];
}
