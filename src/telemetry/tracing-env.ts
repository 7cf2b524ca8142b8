/** Where a process's spans go and how they are batched: the standard `OTEL_*` variables, read once at start. */
export interface TracingSettings {
  /** Off unless an OTLP endpoint is set; `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` wins. */
  enabled: boolean;
  /** `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`. @defaultValue `http/protobuf` */
  protocol: OtlpProtocol;
  /** The traces URL: `…_TRACES_ENDPOINT` as is, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces` (gRPC: the endpoint as is). */
  url: string;
  /** `OTEL_EXPORTER_OTLP_HEADERS`, then `…_TRACES_HEADERS` over it: `key=value,…`, values percent-decoded. */
  headers: Record<string, string>;
  /** `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT`: one export request. @defaultValue 10000 */
  requestTimeoutMillis: number;
  sampler: { name: SamplerName; ratio: number };
  batch: BatchSettings;
  /** `OTEL_SERVICE_NAME`, else `service.name` of `OTEL_RESOURCE_ATTRIBUTES`, else `ccc-<process>`. */
  serviceName: string;
  /** `OTEL_RESOURCE_ATTRIBUTES`, percent-decoded. */
  resourceAttributes: Record<string, string>;
}

/** `OTEL_BSP_*`. */
export interface BatchSettings {
  /** `OTEL_BSP_MAX_QUEUE_SIZE`: spans past it are dropped (and counted). @defaultValue 2048 */
  maxQueueSize: number;
  /** `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, at most the queue size. @defaultValue 512 */
  maxExportBatchSize: number;
  /** `OTEL_BSP_SCHEDULE_DELAY`. @defaultValue 5000 */
  scheduledDelayMillis: number;
  /** `OTEL_BSP_EXPORT_TIMEOUT`: a batch not answered by then is counted dropped. @defaultValue 30000 */
  exportTimeoutMillis: number;
}

export const OTLP_PROTOCOLS = ["http/protobuf", "http/json", "grpc"] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export const SAMPLER_NAMES = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export type TracedProcess = "app" | "agent" | "dispatcher" | "action";

/** Every variable readTracingEnv reads, for the docs' check (test/doc-settings.test.ts). */
export const OTEL_SETTINGS = [
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
  "OTEL_EXPORTER_OTLP_TIMEOUT",
  "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
  "OTEL_TRACES_SAMPLER",
  "OTEL_TRACES_SAMPLER_ARG",
  "OTEL_BSP_SCHEDULE_DELAY",
  "OTEL_BSP_EXPORT_TIMEOUT",
  "OTEL_BSP_MAX_QUEUE_SIZE",
  "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
  "OTEL_SDK_DISABLED",
  "OTEL_TRACES_EXPORTER",
  "OTEL_RESOURCE_ATTRIBUTES",
  "OTEL_SERVICE_NAME",
] as const;

type Env = Record<string, string | undefined>;

/**
 * The tracing settings of `env` and one line per malformed value, naming the variable and
 * what was used instead: a bad `OTEL_*` value never stops a process. Pure.
 */
export function readTracingEnv(process: TracedProcess, env: Env): { settings: TracingSettings; problems: string[] } {
  const problems: string[] = [];
  const value = (name: string) => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === "" ? undefined : raw;
  };
  const tracesEndpoint = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const endpoint = value("OTEL_EXPORTER_OTLP_ENDPOINT");
  const disabled = value("OTEL_SDK_DISABLED")?.toLowerCase() === "true" || value("OTEL_TRACES_EXPORTER")?.toLowerCase() === "none";

  const protocolName = value("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const protocol = oneOf(OTLP_PROTOCOLS, value(protocolName), "http/protobuf", protocolName, problems);

  const defaultUrl = protocol === "grpc" ? "http://localhost:4317" : "http://localhost:4318/v1/traces";
  let url = defaultUrl;
  if (tracesEndpoint !== undefined) url = checkUrl(tracesEndpoint, defaultUrl, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", problems);
  else if (endpoint !== undefined) {
    const base = checkUrl(endpoint, undefined, "OTEL_EXPORTER_OTLP_ENDPOINT", problems);
    url = base === undefined ? defaultUrl : protocol === "grpc" ? base : `${base.replace(/\/+$/, "")}/v1/traces`;
  }

  const headers = {
    ...keyValues(value("OTEL_EXPORTER_OTLP_HEADERS"), "OTEL_EXPORTER_OTLP_HEADERS", problems),
    ...keyValues(value("OTEL_EXPORTER_OTLP_TRACES_HEADERS"), "OTEL_EXPORTER_OTLP_TRACES_HEADERS", problems),
  };
  const timeoutName = value("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") ? "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT" : "OTEL_EXPORTER_OTLP_TIMEOUT";
  const requestTimeoutMillis = positiveInt(value(timeoutName), 10_000, timeoutName, problems);

  const samplerName = oneOf(SAMPLER_NAMES, value("OTEL_TRACES_SAMPLER")?.toLowerCase(), "parentbased_always_on", "OTEL_TRACES_SAMPLER", problems);
  const ratio = samplerName.endsWith("traceidratio") ? sampleRatio(value("OTEL_TRACES_SAMPLER_ARG"), problems) : 1;

  const maxQueueSize = positiveInt(value("OTEL_BSP_MAX_QUEUE_SIZE"), 2048, "OTEL_BSP_MAX_QUEUE_SIZE", problems);
  let maxExportBatchSize = positiveInt(value("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"), 512, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", problems);
  if (maxExportBatchSize > maxQueueSize) {
    problems.push(`OTEL_BSP_MAX_EXPORT_BATCH_SIZE (${maxExportBatchSize}) is more than OTEL_BSP_MAX_QUEUE_SIZE (${maxQueueSize}): using ${maxQueueSize}`);
    maxExportBatchSize = maxQueueSize;
  }
  const batch: BatchSettings = {
    maxQueueSize,
    maxExportBatchSize,
    scheduledDelayMillis: positiveInt(value("OTEL_BSP_SCHEDULE_DELAY"), 5000, "OTEL_BSP_SCHEDULE_DELAY", problems),
    exportTimeoutMillis: positiveInt(value("OTEL_BSP_EXPORT_TIMEOUT"), 30_000, "OTEL_BSP_EXPORT_TIMEOUT", problems),
  };

  const resourceAttributes = keyValues(value("OTEL_RESOURCE_ATTRIBUTES"), "OTEL_RESOURCE_ATTRIBUTES", problems);
  const serviceName = value("OTEL_SERVICE_NAME") ?? resourceAttributes["service.name"] ?? `ccc-${process}`;

  return {
    settings: {
      enabled: !disabled && (tracesEndpoint !== undefined || endpoint !== undefined),
      protocol,
      url,
      headers,
      requestTimeoutMillis,
      sampler: { name: samplerName, ratio },
      batch,
      serviceName,
      resourceAttributes,
    },
    problems,
  };
}

function oneOf<T extends string>(allowed: readonly T[], raw: string | undefined, fallback: T, name: string, problems: string[]): T {
  if (raw === undefined) return fallback;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  problems.push(`${name}=${JSON.stringify(raw)} is not one of ${allowed.join(", ")}: using ${fallback}`);
  return fallback;
}

function positiveInt(raw: string | undefined, fallback: number, name: string, problems: string[]): number {
  if (raw === undefined) return fallback;
  const parsed = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (Number.isSafeInteger(parsed) && parsed > 0) return parsed;
  problems.push(`${name}=${JSON.stringify(raw)} is not a positive whole number: using ${fallback}`);
  return fallback;
}

function sampleRatio(raw: string | undefined, problems: string[]): number {
  if (raw === undefined) return 1;
  const parsed = Number(raw);
  if (raw !== "" && Number.isFinite(parsed) && parsed >= 0 && parsed <= 1) return parsed;
  problems.push(`OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(raw)} is not a ratio from 0 to 1: using 1`);
  return 1;
}

function checkUrl<T extends string | undefined>(raw: string, fallback: T, name: string, problems: string[]): string | T {
  try {
    const url = new URL(raw);
    if (url.protocol === "http:" || url.protocol === "https:") return raw;
  } catch {
    // reported below
  }
  problems.push(`${name}=${JSON.stringify(raw)} is not an http(s) URL: using ${fallback ?? "the default endpoint"}`);
  return fallback;
}

/** `key=value,key2=value2` (W3C Baggage-like, as the OTel spec reads headers and resource attributes); a bad list counts as empty. */
function keyValues(raw: string | undefined, name: string, problems: string[]): Record<string, string> {
  if (raw === undefined) return {};
  const pairs: Record<string, string> = {};
  for (const item of raw.split(",")) {
    if (item.trim() === "") continue;
    const at = item.indexOf("=");
    const key = at > 0 ? item.slice(0, at).trim() : "";
    let decoded: string | undefined;
    try {
      decoded = at > 0 ? decodeURIComponent(item.slice(at + 1).trim()) : undefined;
    } catch {
      decoded = undefined;
    }
    if (key === "" || decoded === undefined || /[\s"]/.test(key)) {
      // Only the variable's name and the key go in the warning: headers hold API keys.
      problems.push(`${name} is not a list of key=value pairs (at ${JSON.stringify(key || "?")}): ignoring it`);
      return {};
    }
    pairs[key] = decoded;
  }
  return pairs;
}
