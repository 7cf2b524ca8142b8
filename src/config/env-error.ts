import type { z } from "zod";
import { UserFacingError } from "../shared/user-facing-error.js";

/** A setting is missing or wrong; the message names the variable or flag and the fix. Bad usage: `ccc` exits 2. */
export class ConfigError extends UserFacingError {
  override readonly name = "ConfigError";
  declare readonly code: "config-invalid";
  constructor(message: string) {
    super(message, { code: "config-invalid", exitCode: 2 });
  }

  static fromZod(what: string, error: z.ZodError): ConfigError {
    const lines = error.issues.map((issue) => `  ${issue.path.join(".") || "(value)"}: ${issue.message}`);
    return new ConfigError(`${what} is not valid:\n${lines.join("\n")}`);
  }
}
