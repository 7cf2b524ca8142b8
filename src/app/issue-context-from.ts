import type { Context } from "probot";
import { dependencySummaryOf } from "../github/read-blockers.js";
import type { IssueContext } from "./issue-context.js";

type IssueEvent = Context<"issues.labeled" | "issues.unlabeled" | "issues.closed" | "issue_comment.created">;

/** What every delivery the handlers take says about where it comes from and who sent it. */
interface Delivery {
  octokit: IssueContext["octokit"];
  id: string;
  payload: {
    installation?: { id: number } | undefined;
    repository: { owner: { login: string }; name: string; clone_url: string; default_branch: string };
    sender: { login: string };
  };
}

/** The repository, installation and actor of a delivery: the context minus the issue. */
export function deliveryContext(context: Delivery): Omit<IssueContext, "issue"> {
  const { payload } = context;
  return {
    octokit: context.octokit,
    deliveryId: context.id,
    installationId: payload.installation?.id ?? 0,
    owner: payload.repository.owner.login,
    repo: payload.repository.name,
    cloneUrl: payload.repository.clone_url,
    defaultBranch: payload.repository.default_branch,
    actor: payload.sender.login,
  };
}

/** The parts of an issue or comment delivery that the handlers use. */
export function issueContextFrom(context: IssueEvent): IssueContext {
  const { payload } = context;
  return {
    ...deliveryContext(context),
    issue: {
      number: payload.issue.number,
      title: payload.issue.title,
      body: payload.issue.body ?? null,
      url: payload.issue.html_url,
      author: payload.issue.user?.login ?? "ghost",
      labels: (payload.issue.labels ?? []).map((l) => (typeof l === "string" ? l : l.name)),
      comments: payload.issue.comments,
      dependencySummary: dependencySummaryOf(payload.issue),
    },
  };
}
