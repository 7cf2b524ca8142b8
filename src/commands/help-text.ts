import { PRIORITIES } from "../shared/priority.js";
import { DEFAULT_SPECIALTIES } from "../shared/specialty.js";

/** The reply to `/claude help`, also appended to replies about a malformed command. */
export const HELP_TEXT: string = [
  "**Claude commands.** Start a line of your comment with one of these; only the first command in a comment counts, and commands in code blocks, inline code or quotes are ignored.",
  "",
  `- \`/claude run [specialty] [priority:${PRIORITIES.join("|")}] [at <time> | in <duration>] [--force]\` — hand this issue to Claude. A specialty (${DEFAULT_SPECIALTIES.join(", ")}, or one this repository defines) picks the agent; without one, the issue's labels and words decide. \`at 02:00\` (UTC) or \`in 3h\` holds the task until then, say overnight when the usage window is fresh. Lines below the command are instructions for Claude.`,
  '- An issue whose body says `Blocked by #12` or `Depends on owner/repo#3` (or that has GitHub\'s own "blocked by" dependencies) waits, labelled `claude:blocked`, until those issues close, then starts by itself. `/claude run --force` starts it anyway.',
  "- On a pull request: `/claude run <instructions>` (or instructions on the lines below), in a comment or in a review's body — Claude works on the pull request's branch with the instructions and the review comments since its last run there, and pushes new commits to it. `status`, `cancel` and `retry` there act on the pull request's task. Pull requests from forks are never run.",
  "- `/claude fix-ci` — on a pull request: have Claude fix the failing checks of its head commit, on its branch, whoever pushed it. On pull requests the cluster opened this happens by itself (up to `ciFixAttempts` times, 3 by default); asking starts the count again.",
  "- `/claude status` — show where this issue's task stands.",
  "- `/claude cancel` — stop this issue's task, queued or running.",
  "- `/claude retry` — run this issue's last task again, on the same branch.",
  "- `/claude help` — show this list.",
  "- `/claude pause` / `/claude resume` — stop or restart taking new work on every agent (cluster admins only: the logins in the app's `CCC_ADMINS`, or maintainers and admins of its ops repository).",
  "- `/claude stop` — emergency stop: every agent stops, and running work goes back to the queue without being lost (cluster admins only; `/claude resume` starts again).",
].join("\n");
