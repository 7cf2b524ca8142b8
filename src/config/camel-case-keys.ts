/** `ci_fix_attempts` → `ciFixAttempts`; a key without an underscore is returned as it is. */
export function camelCase(key: string): string {
  return key.replace(/_+([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

export type CamelCaseResult = { ok: true; value: unknown } | { ok: false; key: string; camel: string };

/**
 * The repository config in the spelling its schema reads: YAML files (and GitHub's own docs)
 * favour `snake_case`, the schema `camelCase`, and a maintainer should not have to know which.
 * Applied to the keys of every mapping except those whose keys are user data (label names,
 * specialties); a key given in both spellings is an error, not a silent choice. Pure.
 */
export function camelCaseKeys(value: unknown, keepKeysOf: ReadonlySet<string> = new Set(), path = ""): CamelCaseResult {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { ok: true, value };
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const camel = keepKeysOf.has(path) ? key : camelCase(key);
    if (Object.hasOwn(out, camel)) return { ok: false, key: path ? `${path}.${key}` : key, camel };
    const innerPath = path ? `${path}.${camel}` : camel;
    const converted = camelCaseKeys(inner, keepKeysOf, innerPath);
    if (!converted.ok) return converted;
    out[camel] = converted.value;
  }
  return { ok: true, value: out };
}
