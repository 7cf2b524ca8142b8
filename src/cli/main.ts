import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import type { AgentFlags } from "../config/agent-options.js";
import type { IssueRef } from "../shared/task-id.js";
import { TASK_STATES } from "../shared/task-state.js";
import { agentNameOption, limitOption, taskArgument } from "./argument-parsers.js";
import type { ClusterDeps } from "./cluster-commands.js";
import type { ExitCode } from "./exit-code.js";
import { explainError } from "./explain-error.js";
import { ignoreClosedStdout } from "./ignore-closed-stdout.js";
import { processOutput } from "./output.js";
import type { TasksFlags } from "./tasks-command.js";

type Json = { json?: boolean };
const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/*
 * Commands load their code when they run (`await import`): help, --version and a mistyped
 * command answer without loading BullMQ, ioredis and the agent, three times faster.
 */

/** Runs a command against the cluster's Redis; its exit code becomes the process's. */
async function onCluster(flags: Json, load: () => Promise<(deps: ClusterDeps) => Promise<ExitCode>>): Promise<void> {
  const [{ runOnCluster }, run] = await Promise.all([import("./run-on-cluster.js"), load()]);
  process.exitCode = await runOnCluster(flags, run);
}

// exitOverride and configureOutput before any .command(): subcommands copy them. Commander then
// throws instead of printing and exiting 1, and the catch at the bottom prints one line naming
// the fix and exits 2 for bad usage.
const program = new Command("ccc")
  .description("Claude Code Cluster: run agents and steer the cluster")
  .version(version)
  .exitOverride()
  .configureOutput({ outputError: () => {} });

program
  .command("agent")
  .description("run an agent daemon on this machine")
  .option("--name <name>", "agent name, unique in the cluster (default: CCC_AGENT_NAME or the host name)")
  .option("--specialties <list>", "comma-separated specialties besides general, e.g. backend,testing")
  .option("--concurrency <n>", "tasks run at once (default 1)")
  .option("--workdir <dir>", "mirrors, worktrees and transcripts (default ~/.ccc/<name>)")
  .option("--account <name>", "Claude account this agent is logged in with (default: default)")
  .option(
    "--max-permission-mode <mode>",
    "highest permission mode a task runs with here: plan, default, acceptEdits or bypassPermissions (default acceptEdits)",
  )
  .option(
    "--allowed-tools <list>",
    "comma-separated tools a task may use here, e.g. Edit,Read,Bash(git commit:*) (default: the repository config's default tools)",
  )
  .option("--models <list>", "comma-separated models a task may ask for here; another runs with the CLI's default (default: any)")
  .option("--repos <list>", "comma-separated owners or owner/repo whose tasks this agent takes (default: all)")
  .option("--keep-worktrees-mb <n>", "disk the worktrees of unfinished tasks may keep for a resumed Claude session, in MiB; 0 keeps none (default 2048)")
  .option("--test-commands <allow|refuse>", "whether repositories' test commands (`test:` in their config) run here before the push (default allow)")
  // Checks its flags together with the CCC_* variables, then serves until a signal.
  .action(async (flags: AgentFlags) => (await import("./agent-command.js")).agentCommand(flags));

program
  .command("status")
  .description("queues and recent tasks")
  .option("--json", "machine-readable output")
  .action((flags: Json) => onCluster(flags, async () => (await import("./status-command.js")).statusCommand));
program
  .command("agents")
  .description("live agents")
  .option("--json", "machine-readable output")
  .action((flags: Json) => onCluster(flags, async () => (await import("./cluster-commands.js")).agentsCommand));
program
  .command("cancel")
  .description("cancel the live task of an issue; fails (exit 1) when it has none")
  .argument("<task>", "the issue, written owner/repo#n", taskArgument)
  .option("--json", "machine-readable output")
  .action((task: IssueRef, flags: Json) =>
    onCluster(flags, async () => {
      const { cancelCommand } = await import("./cancel-command.js");
      return (deps) => cancelCommand(deps, task);
    }),
  );
const tasks = program
  .command("tasks")
  .description("recent tasks, newest first; `ccc tasks show owner/repo#n` for one")
  .addOption(new Option("--state <state>", "only tasks in this state").choices(TASK_STATES))
  .option("--limit <n>", "at most this many, up to 1000", limitOption, 30)
  .option("--json", "machine-readable output")
  .action((flags: TasksFlags & Json) =>
    onCluster(flags, async () => {
      const { tasksCommand } = await import("./tasks-command.js");
      return (deps) => tasksCommand(deps, flags);
    }),
  );
tasks
  .command("show")
  .description("one task: its state, run, agent, times, PR, cost and its latest run's trace (a link with CCC_TRACE_URL)")
  .argument("<task>", "the issue, written owner/repo#n", taskArgument)
  .option("--json", "machine-readable output")
  // `--json` after `show` is taken by `ccc tasks`, which has one too: read both.
  .action((task: IssueRef, _flags: Json, command: Command) =>
    onCluster(command.optsWithGlobals<Json>(), async () => {
      const [{ readCliEnv }, { taskShowCommand }] = await Promise.all([import("./read-cli-env.js"), import("./task-show-command.js")]);
      const { CCC_TRACE_URL } = readCliEnv();
      return (deps) => taskShowCommand(deps, task, CCC_TRACE_URL);
    }),
  );
program
  .command("usage")
  .description("Claude cost, turns and tasks per account and agent; budgets (CCC_BUDGETS) and forecasts; merge rate, cost per merged PR and time to merge")
  .option("--json", "machine-readable output")
  .action((flags: Json) =>
    onCluster(flags, async () => {
      const [{ readBudgetsEnv }, { usageCommand }] = await Promise.all([import("./read-cli-env.js"), import("./usage-command.js")]);
      const budgets = readBudgetsEnv();
      return (deps) => usageCommand(deps, budgets);
    }),
  );
for (const [action, description] of [
  ["pause", "agents finish running tasks and take no new ones"],
  ["stop", "emergency stop: agents abort running tasks and put them back on their queues"],
] as const) {
  program
    .command(action)
    .description(description)
    .option("--json", "machine-readable output")
    .action((flags: Json) =>
      onCluster(flags, async () => {
        const { controlCommand } = await import("./control-command.js");
        return (deps) => controlCommand(deps, action);
      }),
    );
}
program
  .command("resume")
  .description("lift a pause or stop; with --agent, have that agent check its Claude login and resume")
  .option("--agent <name>", "after `claude /login` on that agent's machine: verify the login and resume it", agentNameOption)
  .option("--json", "machine-readable output")
  .action((flags: { agent?: string } & Json) =>
    onCluster(flags, async () => {
      const agent = flags.agent;
      if (agent) {
        const { resumeAgentCommand } = await import("./resume-agent-command.js");
        return (deps) => resumeAgentCommand(deps, agent);
      }
      const { controlCommand } = await import("./control-command.js");
      return (deps) => controlCommand(deps, "resume");
    }),
  );
program
  .command("retry")
  .description("run a finished task again on its branch")
  .argument("<task>", "the issue, written owner/repo#n", taskArgument)
  .option("--json", "machine-readable output")
  .action((task: IssueRef, flags: Json) =>
    onCluster(flags, async () => {
      const [{ readTaskSecretEnv }, { retryCommand }] = await Promise.all([import("./read-cli-env.js"), import("./retry-command.js")]);
      const secrets = readTaskSecretEnv();
      return (deps) => retryCommand(deps, task, secrets);
    }),
  );
program
  .command("doctor")
  .description("check Redis, the claude CLI and its login, git access to a repository, and the GitHub App settings; exit 1 if a check fails")
  .option("--repo <repo>", "owner/name or clone URL whose git access to check")
  .option("--json", "machine-readable output")
  .action(async (flags: { repo?: string } & Json) => {
    const { doctorCommand } = await import("./doctor/doctor-command.js");
    process.exitCode = await doctorCommand({ ...(flags.repo ? { repo: flags.repo } : {}), json: Boolean(flags.json), output: processOutput });
  });

/** Where a usage error sends the user: the help of the command they typed, or the list of commands. */
function helpHint(args: string[]): string {
  const typed = args.find((arg) => !arg.startsWith("-"));
  return program.commands.some((command) => command.name() === typed) ? `ccc ${typed} --help` : "ccc --help";
}

ignoreClosedStdout();
program.parseAsync(process.argv).catch((error: unknown) => {
  const { code, message } = explainError(error, helpHint(process.argv.slice(2)));
  if (message) processOutput.err(message);
  // Exit now: a `ccc agent` that failed after connecting still holds Redis open. The message
  // is one short line, written before the exit (synchronously to files, TTYs and Linux pipes).
  process.exit(code);
});
