import { describeToolUse, type StreamEvent } from "./stream-event.js";
import type { TaskProgress } from "../queue/task-record.js";

/**
 * Folds Claude's stream into what the tracking comment shows: turns so far and the tool in
 * use. `due()` says when a report is worth sending, so a chatty run costs one Redis write
 * per interval rather than one per line.
 */
export class ProgressTracker {
  private turns = 0;
  private currentTool: string | undefined;
  private lastReport = 0;
  private changed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  observe(event: StreamEvent): void {
    // The CLI writes one line per content block, so count tool calls: each is one turn of
    // the agent loop. The final `result` line carries the exact number.
    if (event.type !== "assistant" || event.toolUses.length === 0) return;
    this.turns += event.toolUses.length;
    this.currentTool = describeToolUse(event.toolUses.at(-1)!);
    this.changed = true;
  }

  due(): boolean {
    return this.changed && this.now() - this.lastReport >= this.intervalMs;
  }

  take(): TaskProgress {
    this.lastReport = this.now();
    this.changed = false;
    return { turns: this.turns, ...(this.currentTool ? { currentTool: this.currentTool } : {}), updatedAt: this.lastReport };
  }
}
