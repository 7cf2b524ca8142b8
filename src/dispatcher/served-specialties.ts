import type { RepoConfig } from "../config/repo-config.js";
import { taskMode } from "./task-mode.js";

/**
 * The specialties the router may keep for this repository: those a live agent daemon serves,
 * plus every specialty the repository runs on self-hosted runners. Whether a runner exists is
 * the dispatcher's question (it waits for one); falling back to `general` because no *daemon*
 * serves `backend` would send an actions-mode task to the wrong place.
 */
export function servedSpecialties(config: RepoConfig, daemonLive: ReadonlySet<string>): ReadonlySet<string> {
  return new ServedSpecialties(config, daemonLive);
}

/** A set whose membership test also asks the repository's mode; the router only calls `has`. */
class ServedSpecialties extends Set<string> {
  constructor(
    private readonly config: RepoConfig,
    daemonLive: ReadonlySet<string>,
  ) {
    super(daemonLive);
  }

  override has(specialty: string): boolean {
    return super.has(specialty) || taskMode(this.config, specialty) === "actions";
  }
}
