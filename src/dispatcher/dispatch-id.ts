import { randomBytes } from "node:crypto";

/**
 * The dispatch API answers 204 without naming the run it starts, so the dispatcher passes a
 * fresh id as an input and the workflow puts it in its job name and run name (`[ccc:<id>]`);
 * `workflow_job` and `workflow_run` webhooks name their dispatch through it. Anyone can copy the
 * tag, so it only finds the dispatch: handle-workflow-events.ts then checks the event's repository,
 * workflow and run before it counts.
 */
export function newDispatchId(): string {
  return randomBytes(8).toString("hex");
}

const TAG = /\[ccc:([a-f0-9]{16})\]/;

/** The dispatch id tagged in a job name or run title, if any. A reusable workflow's job is named `caller / callee`; the tag survives that. */
export function dispatchIdFrom(text: string | null | undefined): string | undefined {
  return text ? TAG.exec(text)?.[1] : undefined;
}

/** The tag as the workflow writes it. */
export function dispatchTag(id: string): string {
  return `[ccc:${id}]`;
}
