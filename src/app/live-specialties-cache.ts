import type { AgentRegistry } from "../store/agent-registry.js";

/**
 * The registry read, shared by the deliveries of one short window: a burst of labels costs
 * one registry scan, and an agent that starts or dies is seen within `ttlMs`.
 */
export function cachedLiveSpecialties(registry: AgentRegistry, ttlMs = 1_000, now: () => number = Date.now): () => Promise<Set<string>> {
  let cached: { at: number; value: Promise<Set<string>> } | undefined;
  return () => {
    if (!cached || now() - cached.at >= ttlMs) {
      const value = registry.liveSpecialties();
      cached = { at: now(), value };
      // A failed read must not stick for the whole window.
      value.catch(() => (cached = undefined));
    }
    return cached.value;
  };
}
