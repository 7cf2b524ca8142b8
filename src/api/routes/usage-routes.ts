import { z } from "zod";
import { USAGE_WINDOWS } from "../../config/parse-budgets.js";
import { pullRequestReport } from "../../ops/pull-request-report.js";
import { PullRequestFates } from "../../store/pull-request-fates.js";
import type { ApiDeps } from "../api-deps.js";
import { HttpError } from "../http-kit.js";
import type { Route } from "../http-routes.js";

const seriesQuery = z.object({
  /** How far back: 24h (hourly buckets) or 7d (6-hourly buckets). */
  span: z.enum(["24h", "7d"]).default("24h"),
});

/** Claude usage windows, budget forecasts and alerts; a cost series for charts; what became of the pull requests. */
export function usageRoutes(deps: ApiDeps): Route[] {
  return [
    { method: "GET", path: "/api/v1/usage", handle: () => deps.usage.report() },
    {
      method: "GET",
      path: "/api/v1/usage/series",
      handle: ({ query }) => {
        const parsed = seriesQuery.safeParse(Object.fromEntries(query));
        if (!parsed.success) throw new HttpError(400, "invalid-query", "span must be 24h or 7d");
        const span = parsed.data.span;
        return deps.usage.series(USAGE_WINDOWS[span], span === "24h" ? 3_600_000 : 6 * 3_600_000);
      },
    },
    {
      method: "GET",
      path: "/api/v1/usage/pull-requests",
      handle: async () => pullRequestReport(await new PullRequestFates(deps.redis, deps.prefix).list()),
    },
  ];
}
