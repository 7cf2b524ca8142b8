import { userInfo, hostname } from "node:os";
import { ClusterControl } from "../store/cluster-control.js";
import type { ClusterDeps } from "./cluster-commands.js";
import { ExitCode } from "./exit-code.js";

const SAID = {
  pause: "Paused: agents finish what they run and take no new tasks. `ccc resume` to lift it.",
  resume: "Resumed: agents take tasks again.",
  stop: "Stopped: agents abort running Claude processes and put those tasks back on their queues. `ccc resume` to lift it.",
} as const;

/** `ccc pause | resume | stop`. */
export async function controlCommand(deps: ClusterDeps, action: "pause" | "resume" | "stop"): Promise<ExitCode> {
  const by = `ccc (${userInfo().username}@${hostname()})`;
  const state = await new ClusterControl(deps.redis, deps.prefix)[action](by);
  deps.output.out(deps.json ? JSON.stringify({ control: state }) : SAID[action]);
  return ExitCode.ok;
}
