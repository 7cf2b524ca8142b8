import type { RedisClient } from "../shared/redis-client.js";
import { AgentRegistry } from "../store/agent-registry.js";
import { GENERAL } from "../shared/specialty.js";
import { ago } from "../shared/ago.js";
import { ExitCode } from "./exit-code.js";
import { table, type Output } from "./output.js";

export interface ClusterDeps {
  redis: RedisClient;
  prefix: string;
  output: Output;
  json: boolean;
}

/** `ccc agents`: live agents from the heartbeat registry. */
export async function agentsCommand(deps: ClusterDeps): Promise<ExitCode> {
  const agents = await new AgentRegistry(deps.redis, deps.prefix).list();
  if (deps.json) deps.output.out(JSON.stringify(agents, null, 2));
  else if (agents.length === 0) deps.output.out("No live agents. Start one with `ccc agent --name <name> --specialties <a,b>`.");
  else
    deps.output.out(
      table(
        ["NAME", "STATE", "SPECIALTIES", "ACCOUNT", "TASKS", "HOST", "SEEN"],
        agents.map((a) => [a.name, a.state, [...a.specialties, GENERAL].join(","), a.account, a.tasks.join(",") || "-", a.host, ago(Date.now() - a.lastSeen)]),
      ),
    );
  return ExitCode.ok;
}
