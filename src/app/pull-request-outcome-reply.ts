import type { PullRequestEnqueueOutcome } from "./enqueue-pull-request.js";

/** What a person is told when their command on a pull request queued nothing; undefined when it queued. */
export function pullRequestOutcomeReply(outcome: PullRequestEnqueueOutcome): string | undefined {
  switch (outcome.status) {
    case "already-live":
      return `Claude is already on this pull request (${outcome.state}); nothing new was queued.`;
    case "no-earlier-task":
      return "There is no earlier Claude task on this pull request to retry: use `/claude run`.";
    case "issue-task-live":
      return `Claude is still working on issue #${outcome.issueNumber} (${outcome.state}), whose branch this pull request is: two runs must not share a branch. Wait for it to finish (or \`/claude cancel\` it there), then comment again. Nothing was queued.`;
    case "actions-mode":
      return `The \`${outcome.specialty}\` specialty runs on self-hosted runners (\`mode: actions\`), which do not work on pull requests yet: nothing was queued. Comment \`/claude run\` on the pull request's issue instead.`;
    default:
      return undefined;
  }
}
