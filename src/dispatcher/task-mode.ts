import type { RepoConfig, TaskMode } from "../config/repo-config.js";

/** Whether a task of `specialty` in this repository runs on agent daemons or on a self-hosted runner. Pure. */
export function taskMode(config: RepoConfig, specialty: string): TaskMode {
  return config.actions.modes[specialty] ?? config.mode;
}
