/**
 * Where a person opens a trace: `CCC_TRACE_URL` with the trace id in place of `{traceId}`;
 * undefined without a template or a trace id. Pure.
 */
export function traceLink(template: string | undefined, traceId: string | undefined): string | undefined {
  if (!template || !traceId) return undefined;
  return template.replaceAll("{traceId}", encodeURIComponent(traceId));
}
