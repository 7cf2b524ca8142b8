import { Command } from "commander";
import { sharedEnvSchema } from "../config/shared-env.js";
import { connectRedis } from "../shared/connect-redis.js";
import { agentCommand } from "./agent-command.js";
import { agentsCommand, cancelCommand, statusCommand, type ClusterDeps } from "./cluster-commands.js";
import { controlCommand } from "./control-command.js";
import { doctorCommand } from "./doctor/doctor-command.js";
import { processOutput } from "./output.js";
import { resumeAgentCommand } from "./resume-agent-command.js";
import { retryCommand } from "./retry-command.js";
import { tasksCommand } from "./tasks-command.js";
import { usageCommand } from "./usage-command.js";

const program = new Command("ccc")
  .description("Claude Code Cluster: run agents and steer the cluster")
  .showHelpAfterError();

program
  .command("agent")
  .description("run an agent daemon on this machine")
  .option("--name <name>", "agent name, unique in the cluster (default: CCC_AGENT_NAME or the host name)")
  .option("--specialties <list>", "comma-separated specialties besides general, e.g. backend,testing")
  .option("--concurrency <n>", "tasks run at once (default 1)")
  .option("--workdir <dir>", "mirrors, worktrees and transcripts (default ~/.ccc/<name>)")
  .option("--account <name>", "Claude account this agent is logged in with (default: default)")
  .action(async (flags) => agentCommand(flags));

/** Runs a command that talks to the cluster's Redis, with `--json` for scripts. */
function clusterAction(run: (deps: ClusterDeps, ...args: string[]) => Promise<number | void>) {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const env = sharedEnvSchema.parse(process.env);
    const redis = await connectRedis(env.REDIS_URL);
    try {
      const code = await run({ redis, prefix: env.CCC_PREFIX, output: processOutput, json: Boolean(command.opts().json) }, ...(args.slice(0, -2) as string[]));
      process.exitCode = code ?? 0;
    } finally {
      redis.disconnect();
    }
  };
}

program.command("status").description("queues and recent tasks").option("--json", "machine-readable output").action(clusterAction(statusCommand));
program.command("agents").description("live agents").option("--json", "machine-readable output").action(clusterAction(agentsCommand));
program
  .command("cancel <task>")
  .description("cancel the live task of an issue, written owner/repo#n")
  .option("--json", "machine-readable output")
  .action(clusterAction((deps, task) => cancelCommand(deps, task!)));

const tasks = program
  .command("tasks")
  .description("recent tasks, newest first")
  .option("--state <state>", "only tasks in this state (queued, running, waiting, pr-open, no-changes, failed, cancelled)")
  .option("--limit <n>", "at most this many (default 30)")
  .option("--json", "machine-readable output");
tasks.action(clusterAction((deps) => tasksCommand(deps, tasks.opts<{ state?: string; limit?: string }>())));
program.command("usage").description("Claude cost, turns and tasks per account and agent; budgets and forecasts").option("--json", "machine-readable output").action(clusterAction((deps) => usageCommand(deps)));
for (const [action, description] of [
  ["pause", "agents finish running tasks and take no new ones"],
  ["stop", "emergency stop: agents abort running tasks and put them back on their queues"],
] as const) {
  program.command(action).description(description).option("--json", "machine-readable output").action(clusterAction((deps) => controlCommand(deps, action)));
}
const resume = program
  .command("resume")
  .description("lift a pause or stop; with --agent, have that agent check its Claude login and resume")
  .option("--agent <name>", "after `claude /login` on that agent's machine: verify the login and resume it")
  .option("--json", "machine-readable output");
resume.action(
  clusterAction((deps) => {
    const agent = resume.opts<{ agent?: string }>().agent;
    return agent ? resumeAgentCommand(deps, agent) : controlCommand(deps, "resume");
  }),
);
program
  .command("retry <task>")
  .description("run a finished task again on its branch, written owner/repo#n")
  .option("--json", "machine-readable output")
  .action(clusterAction((deps, task) => retryCommand(deps, task!)));
const doctor = program
  .command("doctor")
  .description("check Redis, the claude CLI and its login, git access to a repository, and the GitHub App settings")
  .option("--repo <repo>", "owner/name or clone URL whose git access to check")
  .option("--json", "machine-readable output");
doctor.action(async () => {
  const flags = doctor.opts<{ repo?: string; json?: boolean }>();
  process.exitCode = await doctorCommand({ ...(flags.repo ? { repo: flags.repo } : {}), json: Boolean(flags.json), output: processOutput });
});

program.parseAsync(process.argv).catch((error: Error & { code?: string }) => {
  // Errors we raise on purpose carry a code and a message that names the fix.
  processOutput.err(error.code ? `ccc: ${error.message}` : `ccc: unexpected error: ${error.stack ?? error.message}`);
  process.exit(1);
});
