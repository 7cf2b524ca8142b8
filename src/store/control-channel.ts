import type { RedisClient } from "../shared/redis-client.js";
import { z } from "zod";
import type { Logger } from "../shared/logger.js";

/**
 * The one pub/sub channel from the app, the CLI and the API to every agent. Messages are
 * hints: the state they announce is stored too, and an agent re-reads it when its subscriber
 * reconnects (the only time it can miss one), every 2 s while it runs tasks and every 60 s idle.
 */
export function controlChannel(prefix: string): string {
  return `${prefix}:control`;
}

/** The cluster mode as stored and announced (`ClusterControl`'s `ControlState`). */
export const controlStateSchema = z.object({
  /** `paused`: agents take nothing new; `stopped`: they also abort what they run. */
  mode: z.enum(["running", "paused", "stopped"]),
  /** Who changed it: `@login`, `ccc`, `api`. */
  by: z.string().optional(),
  at: z.number(),
});

/** The account pause as announced; the pause store's `AccountPause` has the same shape. */
export const accountPauseSchema = z.object({
  /** The Claude account every agent logged in to it stays idle for. */
  account: z.string(),
  until: z.number(),
  /** The agent that hit the limit, and what the CLI said. */
  agent: z.string(),
  message: z.string(),
  /** True when `until` is a backoff guess rather than the CLI's reset time. */
  guessed: z.boolean(),
});

/** An account's budget gate as stored and announced (`BudgetGates`' `BudgetGate`). */
export const budgetGateSchema = z.object({
  account: z.string(),
  level: z.enum(["ok", "tight", "spent"]),
  /** `spent`: when the window has rolled over enough for the account to work again. */
  until: z.number().optional(),
  message: z.string(),
  /** When the app computed it. */
  at: z.number(),
});

/** Every message on the control channel, told apart by `type`. */
export const controlMessageSchema = z.discriminatedUnion("type", [
  /** A running task was cancelled: the agent running it aborts and pushes nothing. */
  z.object({ type: z.literal("cancel"), taskId: z.string() }),
  /** The cluster was paused, resumed or stopped (`stopped` also aborts running tasks). */
  z.object({ type: z.literal("mode"), state: controlStateSchema }),
  /** One account hit its usage limit: every agent on that account waits. */
  z.object({ type: z.literal("account-paused"), pause: accountPauseSchema }),
  /** One agent should check its Claude login again (its session-timeout issue was closed). */
  z.object({ type: z.literal("verify-login"), agent: z.string() }),
  /** The app's usage monitor wrote every account's budget gate: each agent takes its account's. */
  z.object({ type: z.literal("budget-gates"), gates: z.array(budgetGateSchema) }),
]);

export type ControlMessage = z.infer<typeof controlMessageSchema>;
export type ControlMessageType = ControlMessage["type"];

const KNOWN_TYPES: ReadonlySet<string> = new Set(controlMessageSchema.options.map((o) => o.shape.type.value));

/** The message as sent, checked first: a sender's bug fails at the sender, not in every agent. */
export function encodeControl(message: ControlMessage): string {
  return JSON.stringify(controlMessageSchema.parse(message));
}

/** Validates and publishes one message; resolves to the number of subscribers that got it. */
export function publishControl(redis: Pick<RedisClient, "publish">, prefix: string, message: ControlMessage): Promise<number> {
  return redis.publish(controlChannel(prefix), encodeControl(message));
}

/**
 * The message in `raw`, or undefined when it is not JSON, not one of ours, or malformed;
 * each of those is logged, never thrown (a subscriber must survive any publisher).
 */
export function parseControl(raw: string, log: Pick<Logger, "warn">): ControlMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    log.warn({ raw: raw.slice(0, 200) }, "control message ignored: not JSON");
    return undefined;
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof type !== "string" || !KNOWN_TYPES.has(type)) {
    log.warn({ type, raw: raw.slice(0, 200) }, "control message ignored: unknown type (a newer sender than this process?)");
    return undefined;
  }
  const parsed = controlMessageSchema.safeParse(json);
  if (!parsed.success) {
    log.warn({ type, issues: z.treeifyError(parsed.error) }, "control message ignored: malformed");
    return undefined;
  }
  return parsed.data;
}

/**
 * Subscribes `subscriber` (a connection given over to pub/sub) to the control channel and
 * hands each valid message to `onMessage`; a handler's failure is logged, not thrown.
 */
export async function subscribeControl(
  subscriber: RedisClient,
  prefix: string,
  log: Pick<Logger, "warn">,
  onMessage: (message: ControlMessage) => void | Promise<void>,
): Promise<void> {
  const channel = controlChannel(prefix);
  subscriber.on("message", (from: string, raw: string) => {
    if (from !== channel) return;
    const message = parseControl(raw, log);
    if (!message) return;
    void Promise.resolve()
      .then(() => onMessage(message))
      .catch((err: unknown) => log.warn({ err, type: message.type }, "control message failed"));
  });
  await subscriber.subscribe(channel);
}
