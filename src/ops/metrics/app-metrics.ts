import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { ClusterGauges } from "./cluster-gauges.js";
import { readClusterSnapshot, type ClusterSource } from "./cluster-snapshot.js";
import type { CensusCache } from "../task-census.js";

/**
 * The app's Prometheus registry. Cluster numbers come from Redis at each scrape (the same on
 * every replica); counters and histograms here count what this process itself saw: webhook
 * deliveries, GitHub API calls, budget alerts it raised. Sum those across replicas.
 */
export class AppMetrics {
  readonly registry = new Registry();
  readonly webhookDeliveries = new Counter({
    name: "ccc_webhook_deliveries_total",
    help: "Webhook deliveries this replica answered, by event and outcome (ok, error).",
    labelNames: ["event", "outcome"],
    registers: [this.registry],
  });
  readonly webhookDuration = new Histogram({
    name: "ccc_webhook_duration_seconds",
    help: "Time from a verified delivery's arrival to its answer, by event.",
    labelNames: ["event"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly githubRequests = new Counter({
    name: "ccc_github_requests_total",
    help: "GitHub API requests this replica made, by method and status (error: no response).",
    labelNames: ["method", "status"],
    registers: [this.registry],
  });
  readonly githubRateLimitRemaining = new Gauge({
    name: "ccc_github_rate_limit_remaining",
    help: "x-ratelimit-remaining of the last GitHub response, by resource.",
    labelNames: ["resource"],
    registers: [this.registry],
  });
  readonly tracesDropped = new Counter({
    name: "ccc_trace_spans_dropped_total",
    help: "OpenTelemetry spans this replica lost: the export queue was full, or the collector failed or did not answer.",
    registers: [this.registry],
  });
  readonly usageAlerts = new Counter({
    name: "ccc_usage_alerts_total",
    help: "Budget alerts this replica raised, by account and level.",
    labelNames: ["account", "level"],
    registers: [this.registry],
  });
  private readonly cluster: ClusterGauges | undefined;
  /** The task summaries the last scrape read (at most CENSUS_LIMIT), by task id and version. */
  private readonly census: CensusCache = new Map();
  /** What `droppedSpans` said at the last scrape: the counter goes up by the difference. */
  private droppedSeen = 0;

  constructor(
    private readonly source?: ClusterSource,
    private readonly now: () => number = Date.now,
    /** Spans this process's tracing lost (`Tracing.droppedSpans`). @defaultValue none: the counter stays 0 */
    private readonly droppedSpans: () => number = () => 0,
  ) {
    if (source) this.cluster = new ClusterGauges(this.registry);
    collectDefaultMetrics({ register: this.registry, prefix: "ccc_app_" });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text, with the cluster gauges read from Redis just now. */
  async text(): Promise<string> {
    if (this.source && this.cluster) this.cluster.update(await readClusterSnapshot(this.source, this.census), this.now());
    const dropped = this.droppedSpans();
    if (dropped > this.droppedSeen) this.tracesDropped.inc(dropped - this.droppedSeen);
    this.droppedSeen = Math.max(this.droppedSeen, dropped);
    return this.registry.metrics();
  }
}
