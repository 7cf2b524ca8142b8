import { json, type Route } from "./route.js";

/** A pull request's global id as the fake hands it out: it names the repository and number, so the fake can find it again. */
export const pullNodeId = (fullName: string, number: number): string => `PR_${Buffer.from(`${fullName}#${number}`).toString("base64url")}`;

function pullOfNodeId(id: string): { fullName: string; number: number } | undefined {
  if (!id.startsWith("PR_")) return undefined;
  const match = /^(.+)#(\d+)$/.exec(Buffer.from(id.slice(3), "base64url").toString("utf8"));
  return match ? { fullName: match[1]!, number: Number(match[2]) } : undefined;
}

/** A GraphQL error in a 200 answer, as GitHub words it. */
const graphqlError = (field: string, type: string, message: string) =>
  json(200, { data: { [field]: null }, errors: [{ type, path: [field], locations: [{ line: 3, column: 5 }], message }] });

/**
 * POST /graphql (github.com) and /api/graphql (GitHub Enterprise, which Octokit picks for an
 * `/api/v3` base URL). Only the mutations the app makes are known; each is recorded.
 */
export const graphqlRoutes: Route[] = [
  {
    method: "POST",
    path: /^\/(?:api\/)?graphql$/,
    handle: ({ state, body }) => {
      const query = String(body.query ?? "");
      const variables = (body.variables ?? {}) as Record<string, unknown>;
      const name = /\b(enablePullRequestAutoMerge)\s*\(/.exec(query)?.[1];
      if (!name) return json(200, { errors: [{ type: "UNKNOWN", message: "the fake GitHub knows no such GraphQL query" }] });
      state.mutations.push({ name, variables });
      const ref = pullOfNodeId(String(variables.pullRequestId ?? ""));
      const pull = ref && state.repo(ref.fullName).pulls.find((p) => p.number === ref.number);
      if (!ref || !pull) return graphqlError(name, "NOT_FOUND", `Could not resolve to a node with the global id of '${String(variables.pullRequestId)}'`);
      const refusal = state.repo(ref.fullName).autoMergeRefusal;
      if (refusal) return graphqlError(name, "UNPROCESSABLE", refusal);
      pull.autoMerge = { mergeMethod: String(variables.mergeMethod) };
      return json(200, { data: { [name]: { pullRequest: { number: pull.number, autoMergeRequest: pull.autoMerge } } } });
    },
  },
];
