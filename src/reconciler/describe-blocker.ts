import type { AgentInfo } from "../store/agent-registry.js";
import { servesRepo } from "../shared/serves-repo.js";
import type { ControlState } from "../store/cluster-control.js";
import { GENERAL } from "../shared/specialty.js";
import { controlBlocker } from "../control/control-blocker.js";
import type { Priority } from "../shared/priority.js";

export interface BlockerInputs {
  /** The queue's specialty: `general` is served by every agent, others by agents that list them. */
  specialty: string;
  /** The task's repository, `owner/repo`: agents whose `--repos` leave it out do not take it. */
  repo: string;
  control: ControlState;
  /** Live agents, from the heartbeat registry. */
  agents: AgentInfo[];
  /** Each agent's open session-timeout issue, as `owner/repo#n`. */
  sessionIssues: ReadonlyMap<string, string>;
  /** The task's priority: an agent whose account is near its budget takes only urgent and high. @defaultValue "normal" */
  priority?: Priority;
}

/** Agent states in which an agent takes work (now, or when its running task ends). */
const WORKING = new Set(["idle", "busy"]);

/**
 * Pure: why no agent can take a queued task now, in words for the tracking comment that say
 * who can unblock it; undefined when some agent can.
 */
export function describeBlocker(inputs: BlockerInputs): string | undefined {
  const { control, agents, specialty } = inputs;
  const held = controlBlocker(control);
  if (held !== undefined) return held;
  if (agents.length === 0) return "no agent is running: start one with `ccc agent`";
  const serving = specialty === GENERAL ? agents : agents.filter((a) => a.specialties.includes(specialty));
  if (serving.length === 0) return `no live agent serves \`${specialty}\`: start one with \`ccc agent --specialties ${specialty}\``;
  const [owner = "", name = ""] = inputs.repo.split("/");
  const forRepo = serving.filter((a) => servesRepo(a.repos, owner, name));
  if (forRepo.length === 0) return `no live agent serves ${inputs.repo} (their --repos)`;
  const important = inputs.priority === "urgent" || inputs.priority === "high";
  const takes = (agent: AgentInfo) => WORKING.has(agent.state) && (important || agent.budget?.level !== "tight");
  if (forRepo.some(takes)) return undefined;
  const reasons = forRepo.map((agent) =>
    WORKING.has(agent.state) && agent.budget ? `${agent.name}: ${agent.budget.message}` : agentBlocker(agent, inputs.sessionIssues.get(agent.name)),
  );
  return `no agent can take it now: ${reasons.join("; ")}`;
}

function agentBlocker(agent: AgentInfo, sessionIssue: string | undefined): string {
  switch (agent.state) {
    case "session-expired":
      return `${agent.name}'s Claude login has expired, ${sessionIssue ? `see ${sessionIssue}` : "a session-timeout issue is being opened"} (run \`claude /login\` on ${agent.host}, then close that issue)`;
    case "usage-limit": {
      const until = agent.pausedUntil !== undefined ? ` until ${new Date(agent.pausedUntil).toISOString()}` : "";
      return `${agent.name}'s Claude account \`${agent.account}\` is over its usage limit${until}`;
    }
    case "over-budget":
      return `${agent.name}: ${agent.budget?.message ?? `account \`${agent.account}\` has used its budget`}`;
    case "checking-login":
      return `${agent.name} is checking its Claude login`;
    case "stopping":
      return `${agent.name} is shutting down`;
    default:
      return `${agent.name} is ${agent.state}`;
  }
}
