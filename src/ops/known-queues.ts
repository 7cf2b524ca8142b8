import type { AgentInfo } from "../store/agent-registry.js";
import { taskQueueName } from "../queue/task-queues.js";
import { DEFAULT_SPECIALTIES, GENERAL } from "../shared/specialty.js";

/**
 * The task queues worth reporting: the built-in specialties', those live agents serve, and
 * any a recorded task sits on (a repository's own specialty, the dispatcher's queue). Found
 * without scanning Redis keys, so a scrape stays cheap on a big Redis.
 */
export function knownQueues(agents: readonly AgentInfo[], taskQueues: Iterable<string>): string[] {
  const names = new Set<string>([GENERAL, ...DEFAULT_SPECIALTIES].map(taskQueueName));
  for (const agent of agents) for (const s of agent.specialties) names.add(taskQueueName(s));
  for (const q of taskQueues) if (q) names.add(q);
  return [...names].sort();
}
