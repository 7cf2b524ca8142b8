import { access } from "node:fs/promises";
import { loadavg } from "node:os";
import { describeMachine } from "./machine.js";

interface BenchResult {
  name: string;
  lines: string[];
}

interface Bench {
  name: string;
  run(): Promise<BenchResult>;
  /** Left out of a plain `npm run bench`: runs only when named. */
  onlyWhenNamed?: boolean;
}

/**
 * `npm run bench`: every bench in turn, figures printed with how they were measured. Never
 * asserts: targets are shown beside the figures as PASS or MISS, and a failing bench is
 * reported and the next one runs.
 */
const benches: Bench[] = [
  { name: "webhook-ingest", run: async () => (await import("./webhook-ingest.js")).benchWebhookIngest() },
  { name: "dispatch", run: async () => (await import("./dispatch.js")).benchDispatch() },
  { name: "ci-fix", run: async () => (await import("./ci-fix.js")).benchCiFix() },
  { name: "tracing", run: async () => (await import("./tracing.js")).benchTracing() },
  // Needs dist/ (the app and ccc run built); about 4 minutes, most of it filling 100,000 tasks.
  { name: "backlog", run: async () => (await import("./backlog.js")).benchBacklog() },
  {
    name: "idle-agents",
    // `npm run bench -- idle-agents 10`: fewer agents than the default 100.
    run: async () => {
      const agents = process.argv.slice(2).find((arg) => /^\d+$/.test(arg));
      return (await import("./idle-agents.js")).benchIdleAgents(agents !== undefined ? { agents: Number(agents) } : {});
    },
  },
  {
    name: "scale",
    // `npm run bench -- scale --agents=200 --backlog=10000 [--cluster]`; needs dist/; about 6 minutes with the defaults.
    onlyWhenNamed: true,
    run: async () => {
      const { benchScale, scaleOptionsFromArgs } = await import("./scale.js");
      return benchScale(scaleOptionsFromArgs(process.argv.slice(2)));
    },
  },
  // Needs dist/: `npm run bench` builds first.
  { name: "cli-startup", run: async () => (await import("./cli-startup.js")).benchCliStartup() },
  {
    name: "workspace",
    run: async () => {
      // bench/workspace.ts belongs to another part of the project; run it when it is there.
      const present = await access(new URL("./workspace.ts", import.meta.url)).then(
        () => true,
        () => false,
      );
      if (!present) return { name: "workspace", lines: ["skipped: bench/workspace.ts not present"] };
      return (await import("./workspace.js")).benchWorkspace();
    },
  },
];

// Numbers and --flags are a bench's own arguments, not names.
const only = process.argv.slice(2).filter((arg) => !/^\d+$/.test(arg) && !arg.startsWith("--"));
const started = new Date();
console.log(`# claude-code-cluster benchmarks`);
console.log(`started ${started.toISOString()} on ${describeMachine()}`);
console.log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")} (other processes on the machine skew these figures)`,
);
for (const bench of benches) {
  if (only.length > 0 ? !only.includes(bench.name) : bench.onlyWhenNamed) continue;
  const t0 = performance.now();
  let result: BenchResult;
  try {
    result = await bench.run();
  } catch (error) {
    result = { name: bench.name, lines: [`failed: ${(error as Error).stack ?? String(error)}`] };
    process.exitCode = 1;
  }
  console.log(`\n## ${result.name}  (${((performance.now() - t0) / 1000).toFixed(1)} s, ${new Date().toISOString()})`);
  for (const line of result.lines) console.log(line);
}
console.log(
  `\nfinished ${new Date().toISOString()} (${((Date.now() - started.getTime()) / 1000).toFixed(0)} s); load average at end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
