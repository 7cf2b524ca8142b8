import { ClusterControl } from "../store/cluster-control.js";
import type { IntakeDeps } from "./intake-deps.js";

/** `/claude pause|resume|stop`: flips the cluster's switch and says what it means. */
export async function switchCluster(deps: IntakeDeps, action: "pause" | "resume" | "stop", by: string): Promise<string> {
  const control = new ClusterControl(deps.redis, deps.prefix);
  switch (action) {
    case "pause":
      await control.pause(by);
      return `:pause_button: Cluster paused by ${by}: agents finish the tasks they are running and take no new ones. \`/claude resume\` lifts it.`;
    case "stop":
      await control.stop(by);
      return `:stop_sign: Emergency stop by ${by}: every running Claude process is being stopped and its task put back on the queue (nothing is lost). Only \`/claude resume\` lifts it.`;
    case "resume":
      await control.resume(by);
      return `:arrow_forward: Cluster resumed by ${by}: agents take work again.`;
  }
}
