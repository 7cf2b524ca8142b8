import type { ApiDeps } from "./api-deps.js";
import { createRouter } from "./http-routes.js";
import { controlRoutes } from "./routes/control-routes.js";
import { pageRoutes } from "./routes/page-routes.js";
import { statusRoutes } from "./routes/status-routes.js";
import { taskRoutes } from "./routes/task-routes.js";
import { usageRoutes } from "./routes/usage-routes.js";

/**
 * One Probot server handler for the control API (`/api/v1`), `/metrics` and `/dashboard`,
 * mounted with `addHandler` beside the webhook route.
 */
export function createOpsHandler(deps: ApiDeps) {
  const routes = [...statusRoutes(deps), ...taskRoutes(deps), ...controlRoutes(deps), ...usageRoutes(deps), ...pageRoutes(deps)];
  return createRouter(routes, deps.access, deps.log.child({ component: "api" }));
}
