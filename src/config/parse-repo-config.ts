import { parse as parseYaml } from "yaml";
import { camelCaseKeys } from "./camel-case-keys.js";
import { DEFAULT_REPO_CONFIG, repoConfigSchema, type RepoConfigResult } from "./repo-config.js";

// Apart from repo-config.ts so that what reads only its schemas (task records, `ccc status`,
// `ccc --help`) does not load the YAML parser.

/**
 * Parses the text of `.github/claude-cluster.yml`. A missing file (undefined) means defaults;
 * a file that is present but wrong is an error, never silently replaced by defaults.
 */
export function parseRepoConfig(text: string | undefined): RepoConfigResult {
  if (text === undefined || text.trim() === "") return { ok: true, config: DEFAULT_REPO_CONFIG };
  // Every delivery of a busy repo brings the same text: parse it once. Results are never mutated.
  const cached = parsedConfigs.get(text);
  if (cached) return cached;
  const result = parseRepoConfigText(text);
  if (parsedConfigs.size >= PARSED_CONFIG_CACHE_SIZE) parsedConfigs.delete(parsedConfigs.keys().next().value!);
  parsedConfigs.set(text, result);
  return result;
}

const PARSED_CONFIG_CACHE_SIZE = 256;
/** Mappings whose keys are the repository's own names (labels, specialties), never respelled. */
const USER_KEYED_FIELDS: ReadonlySet<string> = new Set(["labels", "keywords", "roles", "actions.modes"]);
const parsedConfigs = new Map<string, RepoConfigResult>();

function parseRepoConfigText(text: string): RepoConfigResult {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    return { ok: false, problems: [{ field: "", message: `not valid YAML: ${(error as Error).message.split("\n")[0]}` }] };
  }
  if (raw === null || raw === undefined) return { ok: true, config: DEFAULT_REPO_CONFIG };
  const camel = camelCaseKeys(raw, USER_KEYED_FIELDS);
  if (!camel.ok) return { ok: false, problems: [{ field: camel.key, message: `given twice: as ${camel.key} and as ${camel.camel}; keep one` }] };
  const parsed = repoConfigSchema.safeParse(camel.value);
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({ field: issue.path.join("."), message: issue.message })),
  };
}
