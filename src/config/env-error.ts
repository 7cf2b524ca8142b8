import type { z } from "zod";

/** A setting is missing or wrong; the message names the variable or flag and the fix. */
export class ConfigError extends Error {
  readonly code = "config-invalid";
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }

  static fromZod(what: string, error: z.ZodError): ConfigError {
    const lines = error.issues.map((issue) => `  ${issue.path.join(".") || "(value)"}: ${issue.message}`);
    return new ConfigError(`${what} is not valid:\n${lines.join("\n")}`);
  }
}
