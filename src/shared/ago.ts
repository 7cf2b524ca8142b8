/**
 * `42s ago`, `5m ago`, `3h ago`, `2d ago`: how long since something was last seen, for the
 * CLI and error messages. The dashboard (browser code, served as is) keeps its own copy.
 * Not a duration: `formatDuration` (reporter) says how long something took, more precisely.
 */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7_200) return `${Math.round(s / 60)}m ago`;
  if (s < 172_800) return `${Math.round(s / 3_600)}h ago`;
  return `${Math.round(s / 86_400)}d ago`;
}
