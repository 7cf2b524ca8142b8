/** One line of `ccc doctor`: what was checked, how it went, and what to do about it. */
export interface CheckResult {
  name: string;
  status: "ok" | "warn" | "fail" | "skip";
  /** What was found. */
  detail: string;
  /** How to fix a failure or warning. */
  fix?: string;
}
