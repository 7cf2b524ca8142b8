import type { z } from "zod";
import { StoredValueError } from "./stored-value-error.js";

/**
 * A JSON value read back from Redis, checked with the schema its writer used. Every store reads
 * through this: nothing from Redis is cast. Throws StoredValueError naming the key.
 */
export function parseStored<S extends z.ZodType>(schema: S, raw: string, key: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new StoredValueError(key, "not JSON");
  }
  return checkStored(schema, json, key);
}

/** A value already decoded from what Redis held (a hash's fields, say), checked like parseStored. */
export function checkStored<S extends z.ZodType>(schema: S, json: unknown, key: string): z.output<S> {
  const result = schema.safeParse(json);
  if (!result.success) {
    throw new StoredValueError(key, result.error.issues.map((issue) => `${issue.path.join(".") || "value"}: ${issue.message}`).join("; "));
  }
  return result.data;
}

/** A Redis hash whose every field holds JSON (a task record), decoded field by field. */
export function decodeStoredFields(fields: Record<string, string>, key: string): Record<string, unknown> {
  const decoded: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(fields)) {
    try {
      decoded[field] = JSON.parse(value);
    } catch {
      throw new StoredValueError(key, `field ${field} is not JSON`);
    }
  }
  return decoded;
}
