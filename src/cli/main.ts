import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import type { AgentFlags } from "../config/agent-options.js";
import type { IssueRef } from "../shared/task-id.js";
import { TASK_STATES } from "../shared/task-state.js";
import { agentCommand } from "./agent-command.js";
import { agentNameOption, limitOption, taskArgument } from "./argument-parsers.js";
import { agentsCommand, cancelCommand, statusCommand } from "./cluster-commands.js";
import { controlCommand } from "./control-command.js";
import { doctorCommand } from "./doctor/doctor-command.js";
import { explainError } from "./explain-error.js";
import { processOutput } from "./output.js";
import { readBudgetsEnv } from "./read-cli-env.js";
import { resumeAgentCommand } from "./resume-agent-command.js";
import { retryCommand } from "./retry-command.js";
import { runOnCluster } from "./run-on-cluster.js";
import { tasksCommand, type TasksFlags } from "./tasks-command.js";
import { usageCommand } from "./usage-command.js";

type Json = { json?: boolean };
const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

// exitOverride before any .command(): subcommands copy it. Commander then throws instead of
// exiting 1, and the catch at the bottom turns usage errors into exit code 2.
const program = new Command("ccc")
  .description("Claude Code Cluster: run agents and steer the cluster")
  .version(version)
  .exitOverride()
  .showHelpAfterError();

program
  .command("agent")
  .description("run an agent daemon on this machine")
  .option("--name <name>", "agent name, unique in the cluster (default: CCC_AGENT_NAME or the host name)")
  .option("--specialties <list>", "comma-separated specialties besides general, e.g. backend,testing")
  .option("--concurrency <n>", "tasks run at once (default 1)")
  .option("--workdir <dir>", "mirrors, worktrees and transcripts (default ~/.ccc/<name>)")
  .option("--account <name>", "Claude account this agent is logged in with (default: default)")
  // Runs until a signal; its flags are checked with the environment's CCC_* variables.
  .action(async (flags: AgentFlags) => agentCommand(flags));

program
  .command("status")
  .description("queues and recent tasks")
  .option("--json", "machine-readable output")
  .action(async (flags: Json) => {
    process.exitCode = await runOnCluster(flags, statusCommand);
  });
program
  .command("agents")
  .description("live agents")
  .option("--json", "machine-readable output")
  .action(async (flags: Json) => {
    process.exitCode = await runOnCluster(flags, agentsCommand);
  });
program
  .command("cancel")
  .description("cancel the live task of an issue; fails (exit 1) when it has none")
  .argument("<task>", "the issue, written owner/repo#n", taskArgument)
  .option("--json", "machine-readable output")
  .action(async (task: IssueRef, flags: Json) => {
    process.exitCode = await runOnCluster(flags, (deps) => cancelCommand(deps, task));
  });
program
  .command("tasks")
  .description("recent tasks, newest first")
  .addOption(new Option("--state <state>", "only tasks in this state").choices(TASK_STATES))
  .option("--limit <n>", "at most this many, up to 1000", limitOption, 30)
  .option("--json", "machine-readable output")
  .action(async (flags: TasksFlags & Json) => {
    process.exitCode = await runOnCluster(flags, (deps) => tasksCommand(deps, flags));
  });
program
  .command("usage")
  .description("Claude cost, turns and tasks per account and agent; budgets (CCC_BUDGETS) and forecasts")
  .option("--json", "machine-readable output")
  .action(async (flags: Json) => {
    const budgets = readBudgetsEnv();
    process.exitCode = await runOnCluster(flags, (deps) => usageCommand(deps, budgets));
  });
for (const [action, description] of [
  ["pause", "agents finish running tasks and take no new ones"],
  ["stop", "emergency stop: agents abort running tasks and put them back on their queues"],
] as const) {
  program
    .command(action)
    .description(description)
    .option("--json", "machine-readable output")
    .action(async (flags: Json) => {
      process.exitCode = await runOnCluster(flags, (deps) => controlCommand(deps, action));
    });
}
program
  .command("resume")
  .description("lift a pause or stop; with --agent, have that agent check its Claude login and resume")
  .option("--agent <name>", "after `claude /login` on that agent's machine: verify the login and resume it", agentNameOption)
  .option("--json", "machine-readable output")
  .action(async (flags: { agent?: string } & Json) => {
    const agent = flags.agent;
    process.exitCode = await runOnCluster(flags, (deps) => (agent ? resumeAgentCommand(deps, agent) : controlCommand(deps, "resume")));
  });
program
  .command("retry")
  .description("run a finished task again on its branch")
  .argument("<task>", "the issue, written owner/repo#n", taskArgument)
  .option("--json", "machine-readable output")
  .action(async (task: IssueRef, flags: Json) => {
    process.exitCode = await runOnCluster(flags, (deps) => retryCommand(deps, task));
  });
program
  .command("doctor")
  .description("check Redis, the claude CLI and its login, git access to a repository, and the GitHub App settings; exit 1 if a check fails")
  .option("--repo <repo>", "owner/name or clone URL whose git access to check")
  .option("--json", "machine-readable output")
  .action(async (flags: { repo?: string } & Json) => {
    process.exitCode = await doctorCommand({ ...(flags.repo ? { repo: flags.repo } : {}), json: Boolean(flags.json), output: processOutput });
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  const { code, message } = explainError(error);
  if (message) processOutput.err(message);
  // Exit now: a `ccc agent` that failed after connecting still holds Redis open. The message
  // is one short line, written before the exit (synchronously to files, TTYs and Linux pipes).
  process.exit(code);
});
