import { z } from "zod";
import type { ApiDeps } from "../api-deps.js";
import { HttpError, readJsonBody } from "../http-kit.js";
import type { Route } from "../http-routes.js";

const controlBody = z.object({
  /** Who asks, recorded with the state: e.g. the operator's name. */
  by: z.string().min(1).max(64).optional(),
});

/** The cluster's switch: pause, resume, emergency stop. */
export function controlRoutes(deps: ApiDeps): Route[] {
  const change = (action: "pause" | "resume" | "stop"): Route => ({
    method: "POST",
    path: `/api/v1/${action}`,
    handle: async ({ req }) => {
      const parsed = controlBody.safeParse(await readJsonBody(req));
      if (!parsed.success) throw new HttpError(400, "invalid-body", parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
      const by = parsed.data.by ? `api (${parsed.data.by})` : "api";
      const state = await deps.control[action](by);
      deps.log.warn({ action, by }, `cluster ${action} requested through the API`);
      return { control: state };
    },
  });
  return [
    { method: "GET", path: "/api/v1/control", handle: async () => ({ control: await deps.control.get() }) },
    change("pause"),
    change("resume"),
    change("stop"),
  ];
}
