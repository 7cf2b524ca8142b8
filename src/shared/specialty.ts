import { z } from "zod";

/** The catch-all specialty every agent serves. */
export const GENERAL = "general";

/** Specialties the router knows without any repo config; a repo may add its own. */
export const DEFAULT_SPECIALTIES = ["frontend", "backend", "testing", "docs", "devops", "security"] as const;

/** A specialty name doubles as part of a queue name and a label, so keep it to a safe alphabet. */
export const specialtySchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "a specialty is 1-40 characters of a-z, 0-9 and '-', starting with a letter or digit");

export type Specialty = string;
