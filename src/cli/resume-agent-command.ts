import { AgentRegistry } from "../store/agent-registry.js";
import { SessionStates } from "../store/session-states.js";
import { publishControl } from "../store/control-channel.js";
import type { ClusterDeps } from "./cluster-commands.js";
import { ExitCode } from "./exit-code.js";

/** The login probe allows a minute; leave it room. */
const WAIT_MS = 90_000;

/**
 * `ccc resume --agent pc-2`: what closing its session-timeout issue does, without GitHub.
 * The agent probes its Claude login and resumes, or stays parked; this waits for the answer.
 * No live agent of that name, a login that still fails, or no answer: all failures.
 */
export async function resumeAgentCommand(deps: ClusterDeps, agent: string, waitMs = WAIT_MS): Promise<ExitCode> {
  const live = (await new AgentRegistry(deps.redis, deps.prefix).list()).find((a) => a.name === agent);
  if (!live) {
    deps.output.err(`No live agent named ${agent}. \`ccc agents\` lists them; start it with \`ccc agent --name ${agent}\` (it checks its login at start).`);
    return ExitCode.failed;
  }
  const sessions = new SessionStates(deps.redis, deps.prefix);
  const askedAt = Date.now();
  await publishControl(deps.redis, deps.prefix, { type: "verify-login", agent });
  for (;;) {
    const state = await sessions.get(agent);
    if (state && state.at >= askedAt && state.state !== "checking") {
      if (deps.json) deps.output.out(JSON.stringify({ agent, session: state }));
      else if (state.state === "ok") deps.output.out(`${agent}: Claude login works; the agent takes work again.`);
      else
        deps.output.err(
          `${agent}: the login still fails: ${state.message ?? "unknown"}\nRun \`claude /login\` on ${live.host} as the agent's user, then try again.`,
        );
      return state.state === "ok" ? ExitCode.ok : ExitCode.failed;
    }
    if (Date.now() - askedAt > waitMs) {
      deps.output.err(`${agent} did not answer within ${Math.round(waitMs / 1000)} s; check its log.`);
      return ExitCode.failed;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
