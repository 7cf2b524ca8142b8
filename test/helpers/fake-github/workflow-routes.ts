import { parse } from "yaml";
import { json, notFound, repoPath, type Route } from "./route.js";

type WorkflowInputs = Record<string, { required?: boolean } | null>;

/** The `workflow_dispatch` inputs a workflow file declares; undefined when it has no such trigger. */
function dispatchInputs(text: string): WorkflowInputs | undefined {
  const on = (parse(text) as { on?: Record<string, { inputs?: WorkflowInputs } | null> } | null)?.on;
  if (!on || !("workflow_dispatch" in on)) return undefined;
  return on.workflow_dispatch?.inputs ?? {};
}

/**
 * Self-hosted runners and workflow dispatches. A dispatch is checked against the workflow file
 * set with `setFile(repo, ".github/workflows/<file>", …)` as GitHub checks it: a missing file
 * is 404, no `workflow_dispatch` trigger or an input it does not declare is 422 ("Unexpected
 * inputs provided: [...]", what a workflow copied before a new input gets), a required input
 * left out is 422; an accepted one is remembered and answered 204.
 */
export const workflowRoutes: Route[] = [
  {
    method: "GET",
    path: repoPath("/actions/runners"),
    handle: ({ state, fullName }) => {
      const runners = state.repo(fullName).runners;
      return json(200, { total_count: runners.length, runners });
    },
  },
  {
    method: "POST",
    path: repoPath("/actions/workflows/([^/]+)/dispatches"),
    handle: ({ state, fullName, params, body }) => {
      const workflow = decodeURIComponent(params[2]!);
      const text = state.repo(fullName).files.get(`.github/workflows/${workflow}`);
      if (text === undefined) return notFound();
      const declared = dispatchInputs(text);
      if (!declared) return json(422, { message: "Workflow does not have 'workflow_dispatch' trigger" });
      const inputs = (body.inputs ?? {}) as Record<string, string>;
      const unexpected = Object.keys(inputs).filter((name) => !(name in declared));
      if (unexpected.length > 0) return json(422, { message: `Unexpected inputs provided: ${JSON.stringify(unexpected)}` });
      const missing = Object.entries(declared).find(([name, input]) => input?.required && !(name in inputs));
      if (missing) return json(422, { message: `Required input '${missing[0]}' not provided` });
      state.repo(fullName).dispatches.push({ workflow, ref: String(body.ref), inputs });
      return json(204);
    },
  },
];
