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
  const result = schema.safeParse(json);
  if (!result.success) {
    throw new StoredValueError(key, result.error.issues.map((issue) => `${issue.path.join(".") || "value"}: ${issue.message}`).join("; "));
  }
  return result.data;
}
