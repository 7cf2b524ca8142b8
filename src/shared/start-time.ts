/** A scheduled task's start, as every time the cluster shows: UTC, to the minute. */
export function formatStartTime(at: number): string {
  return `${new Date(at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
