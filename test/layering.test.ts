import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The layering of docs/architecture.md ("Layering"), read from the import lines themselves.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(ROOT, "src");

/** Folders every process and library may use, lowest first. */
const LIBRARIES = ["shared", "telemetry", "config", "router", "commands", "workspace", "queue", "store", "claude", "github", "control", "ops"] as const;

/** What each top-level folder of src/ may import besides itself. A new folder must be placed here. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  shared: [],
  // OpenTelemetry: the one module that sets the SDK up and hands out spans; everything above may trace.
  telemetry: ["shared"],
  config: ["shared", "telemetry"],
  router: ["shared", "telemetry", "config"],
  commands: ["shared", "telemetry", "config"],
  workspace: ["shared", "telemetry", "config"],
  // The store layer: task records and queues (queue), every other Redis store (store).
  queue: ["shared", "telemetry", "config"],
  store: ["shared", "telemetry", "config", "queue"],
  claude: ["shared", "telemetry", "config", "queue"],
  github: ["shared", "telemetry", "config", "queue"],
  control: ["shared", "telemetry", "config", "queue", "store"],
  ops: ["shared", "telemetry", "config", "queue", "store", "control"],
  // Processes: any library, and another process only where it hosts or runs it.
  reporter: LIBRARIES,
  agent: LIBRARIES,
  reconciler: LIBRARIES,
  dispatcher: LIBRARIES,
  api: LIBRARIES,
  app: [...LIBRARIES, "reporter", "reconciler", "dispatcher", "api"],
  cli: [...LIBRARIES, "agent"],
};

/** The Action runs on a runner: it reports its own run, and uses none of the cluster's processes or stores. */
const ACTION_MUST_NOT_IMPORT = ["app", "agent", "api", "cli", "reconciler", "dispatcher", "store", "control", "ops"];

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s*["']([^"']+)["']/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Relative imports of `file` that land in src/, as paths relative to src/. */
function srcImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)]
    .map((m) => m[1] ?? m[2] ?? m[3] ?? "")
    .filter((spec) => spec.startsWith("."))
    .map((spec) => relative(SRC, resolve(dirname(file), spec)))
    .filter((path) => !path.startsWith(".."));
}

const folderOf = (pathInSrc: string) => pathInSrc.split("/")[0]!;

/** folder → folder → one importing file per edge, for the message. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(relative(SRC, file));
    for (const target of srcImports(file)) {
      const to = folderOf(target);
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      if (!graph.get(from)!.has(to)) graph.get(from)!.set(to, `${relative(ROOT, file)} → src/${target}`);
    }
  }
  return graph;
}

/** Each cycle between folders, as the path around it (depth-first search). */
function cycles(graph: Map<string, Map<string, string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

describe("the layering of src/", () => {
  const graph = folderGraph();

  it("finds the imports it checks (the parser still reads this code base)", () => {
    expect(graph.get("agent")?.has("store")).toBe(true);
    expect(graph.get("app")?.has("queue")).toBe(true);
  });

  it("places every top-level folder of src/ in a layer", () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(folders.filter((folder) => !(folder in MAY_IMPORT))).toEqual([]);
  });

  it("has no cycle between top-level folders", () => {
    expect(cycles(graph).map((cycle) => cycle.join(" → "))).toEqual([]);
  });

  it("imports across folders only downwards: shared uses nothing, stores use shared and config, processes use each other only where one hosts the other", () => {
    const broken: string[] = [];
    for (const [from, targets] of graph) {
      for (const [to, example] of targets) {
        if (!MAY_IMPORT[from]?.includes(to)) broken.push(`${from} → ${to} (${example})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("keeps the Action off the cluster's processes and stores", () => {
    const broken = sourceFiles(join(ROOT, "action/src")).flatMap((file) =>
      srcImports(file)
        .filter((target) => ACTION_MUST_NOT_IMPORT.includes(folderOf(target)))
        .map((target) => `${relative(ROOT, file)} → src/${target}`),
    );
    expect(broken).toEqual([]);
  });
});
