import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { agentOptionsSchema } from "../src/config/agent-options.js";
import { appEnvSchema } from "../src/config/app-env.js";
import { sharedEnvSchema } from "../src/config/shared-env.js";
import { OTEL_SETTINGS } from "../src/telemetry/tracing-env.js";

const ROOT = join(import.meta.dirname, "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * The agent's variables: the `env:` names of SOURCES in agent-options.ts, the table
 * readAgentOptions names a wrong setting from (it is not exported, so read from the source).
 */
function agentSources(): Array<{ field: string; env: string }> {
  const source = read("src/config/agent-options.ts");
  const table = source.slice(source.indexOf("const SOURCES"), source.indexOf("};", source.indexOf("const SOURCES")));
  return [...table.matchAll(/(\w+): \{[^}]*\benv: "([A-Z][A-Z0-9_]*)"/g)].map((match) => ({ field: match[1]!, env: match[2]! }));
}
const agentEnvNames = () => agentSources().map((source) => source.env);

/** Each setting's schema default where it is one value (a non-empty string or a number), by variable name. */
function schemaDefaults(): Map<string, string> {
  const defaults = new Map<string, string>();
  const put = (name: string, value: unknown) => ((typeof value === "string" && value !== "") || typeof value === "number") && defaults.set(name, String(value));
  for (const [name, value] of Object.entries(appEnvSchema.parse({}))) put(name, value);
  const fields = agentOptionsSchema.shape as Record<string, { safeParse(value: unknown): { success: boolean; data?: unknown } }>;
  for (const { field, env } of agentSources()) {
    const parsed = fields[field]?.safeParse(undefined);
    if (parsed?.success) put(env, parsed.data);
  }
  return defaults;
}

/** Read outside the zod schemas: the agent's pass-list for Claude's environment, and the log format (src/shared/logger.ts). */
const READ_ELSEWHERE = ["CCC_CLAUDE_ENV_PASS", "LOG_FORMAT"];

/** Read by src/telemetry (tracing-env.ts): the standard OpenTelemetry variables, in every process. */
const OTEL = [...OTEL_SETTINGS];

/** Read by Probot (and @probot/get-private-key) from the settings the app hands it; the app relies on each. */
const PROBOT = ["APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "PORT", "WEBHOOK_PATH", "WEBHOOK_PROXY_URL", "GHE_HOST", "GHE_PROTOCOL"];

const SETTINGS = [
  ...new Set([...Object.keys(sharedEnvSchema.shape), ...Object.keys(appEnvSchema.shape), ...agentEnvNames(), ...READ_ELSEWHERE, ...PROBOT, ...OTEL]),
].sort();

const DOCS = [
  "README.md",
  ".env.example",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
/** Where a name counts as existing: the product, and the benches' and tests' own knobs (docs/operations.md names some). */
const CODE = [...filesUnder("src"), ...filesUnder("bench"), ...filesUnder("test").filter((f) => !f.endsWith("doc-settings.test.ts"))]
  .map((path) => read(path))
  .join("\n");

describe("every setting is documented, and every documented setting exists", () => {
  it("finds the settings of the shared, app and agent schemas", () => {
    expect(SETTINGS).toEqual(
      expect.arrayContaining(["REDIS_URL", "CCC_TASK_SECRET", "CCC_API_TOKEN", "HOST", "CCC_AGENT_NAME", "CCC_MAX_PERMISSION_MODE", "CLAUDE_BIN"]),
    );
    expect(agentEnvNames().length).toBeGreaterThanOrEqual(15);
  });

  it("lists every OTEL_ variable the tracing reads", () => {
    const read_ = [...new Set(read("src/telemetry/tracing-env.ts").match(/"OTEL_[A-Z_]*[A-Z]"/g) ?? [])].map((name) => name.slice(1, -1));
    expect(read_.filter((name) => !OTEL.includes(name as (typeof OTEL)[number]))).toEqual([]);
  });

  it("Probot still reads the variables the docs list as Probot's", () => {
    const probot = read("node_modules/probot/lib/bin/read-env-options.js") + read("node_modules/@probot/get-private-key/dist-src/index.js");
    expect(PROBOT.filter((name) => !probot.includes(`env.${name}`))).toEqual([]);
  });

  it("docs/configuration.md names each setting", () => {
    const doc = read("docs/configuration.md");
    expect(SETTINGS.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });

  it(".env.example has a line for each setting, set or commented out", () => {
    const example = read(".env.example");
    expect(SETTINGS.filter((name) => !new RegExp(`^(# )?${name}=`, "m").test(example))).toEqual([]);
  });

  it("the defaults .env.example shows are the settings' defaults", () => {
    const defaults = schemaDefaults();
    const shown = [...read(".env.example").matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=(.+)$/gm)].map((match) => [match[1]!, match[2]!] as const);
    expect(shown.length).toBeGreaterThan(20);
    expect(shown.filter(([name, value]) => defaults.has(name) && defaults.get(name) !== value)).toEqual([]);
  });

  it("docs/configuration.md gives each setting's default in the row that names it", () => {
    const rows = read("docs/configuration.md")
      .split("\n")
      .filter((line) => line.startsWith("|"));
    // The row whose own cell is the variable (other rows may mention it in passing).
    const rowOf = (name: string) => rows.find((row) => row.split("|").some((cell) => cell.trim() === `\`${name}\``));
    const wrong = [...schemaDefaults()].filter(([name, value]) => !rowOf(name)?.includes(`\`${value}\``));
    expect(wrong).toEqual([]);
  });

  it("every CCC_ name in README.md, docs/*.md and .env.example exists in the code", () => {
    const missing = DOCS.flatMap((doc) =>
      [...new Set(read(doc).match(/(?<![A-Za-z0-9_])CCC_[A-Z0-9_]*[A-Z0-9]/g) ?? [])]
        .filter((name) => !new RegExp(`(?<![A-Za-z0-9_])${name}(?![A-Za-z0-9_])`).test(CODE))
        .map((name) => `${name} in ${relative(ROOT, join(ROOT, doc))}`),
    );
    expect(missing).toEqual([]);
  });
});
