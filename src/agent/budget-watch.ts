import type { Logger } from "../shared/logger.js";
import { bullmqPriority } from "../shared/priority.js";
import type { AgentInfo } from "../store/agent-registry.js";
import { liveGate, type BudgetGate, type BudgetGates } from "../store/budget-gates.js";

export interface BudgetWatchOptions {
  gates: BudgetGates;
  account: string;
  now: () => number;
  log: Logger;
}

/**
 * The agent's view of its account's budget gate, which the app publishes (`CCC_BUDGETS`):
 * `tight` lets only urgent and high tasks start, `spent` none. No gate: no limit.
 */
export class BudgetWatch {
  private gate: BudgetGate | undefined;

  constructor(private readonly options: BudgetWatchOptions) {}

  get level(): BudgetGate["level"] {
    return this.gate?.level ?? "ok";
  }

  /** Whether a task of this BullMQ priority may start: an account on course to overspend keeps the rest for urgent and high. */
  admits(priority: number): boolean {
    return this.level !== "tight" || priority <= bullmqPriority("high");
  }

  /** What the heartbeat shows while the budget holds the agent back. */
  get info(): AgentInfo["budget"] {
    const gate = this.gate;
    if (!gate || gate.level === "ok") return undefined;
    return { level: gate.level, message: gate.message, ...(gate.until !== undefined ? { until: gate.until } : {}) };
  }

  /** Re-reads the gate; a change of level is logged. */
  async refresh(): Promise<void> {
    this.set(await this.options.gates.get(this.options.account, this.options.now()));
  }

  /** Takes this account's gate from the gates the app announced. */
  apply(announced: readonly BudgetGate[]): void {
    this.set(
      liveGate(
        announced.find((gate) => gate.account === this.options.account),
        this.options.now(),
      ),
    );
  }

  private set(gate: BudgetGate | undefined): void {
    const { account, log } = this.options;
    const level = gate?.level ?? "ok";
    if (level !== this.level) {
      if (level === "ok") log.info({ account }, "budget: taking every task again");
      else log.warn({ account, level, until: gate?.until }, gate!.message);
    }
    this.gate = gate;
  }
}
