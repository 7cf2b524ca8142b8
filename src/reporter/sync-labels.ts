import type { TaskRecord } from "../queue/task-record.js";
import { STATE_LABELS, stateLabel } from "../shared/task-state.js";
import type { GitHubClient } from "../github/github-client.js";
import { isGone } from "../github/github-errors.js";

/**
 * Leaves exactly one `claude:<state>` label on the issue. Adding first means the issue never
 * shows no state; the add response is the issue's full label list, which also reveals state
 * labels someone else added or a previous run left behind. Returns the labels removed.
 */
export async function syncLabels(octokit: GitHubClient, record: TaskRecord): Promise<string[]> {
  const wanted = stateLabel(record.state);
  const issue = { owner: record.owner, repo: record.repo, issue_number: record.issueNumber };
  const { data: labels } = await octokit.rest.issues.addLabels({ ...issue, labels: [wanted] });
  const stale = new Set(labels.map((label) => label.name).filter((name) => STATE_LABELS.includes(name)));
  if (record.labelState !== undefined) stale.add(stateLabel(record.labelState));
  stale.delete(wanted);
  for (const name of stale) {
    try {
      await octokit.rest.issues.removeLabel({ ...issue, name });
    } catch (error) {
      // Someone removed it already: the goal is reached.
      if (!isGone(error)) throw error;
    }
  }
  return [...stale];
}
