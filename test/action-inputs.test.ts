import { describe, expect, it } from "vitest";
import { actionInputsSchema, INPUT_NAMES } from "../action/src/inputs.js";

/** As `core.getInput` reads them: "" for every input the workflow left empty. */
const REQUIRED = { ...Object.fromEntries(INPUT_NAMES.map((name) => [name, ""])), "issue-number": "7", "github-token": "ghs_jobtoken" };
const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("the action's traceparent input", () => {
  it("is the trace the job joins when it is a W3C traceparent", () => {
    expect(actionInputsSchema.parse({ ...REQUIRED, traceparent: ` ${TRACEPARENT}\n` }).traceparent).toEqual({ carrier: { traceparent: TRACEPARENT } });
  });

  it("is nothing when empty, as Actions passes an input the dispatcher did not send", () => {
    expect(actionInputsSchema.parse(REQUIRED).traceparent).toBeUndefined();
    expect(actionInputsSchema.parse({ ...REQUIRED, traceparent: "  " }).traceparent).toBeUndefined();
  });

  it.each([
    ["not a traceparent", "hello"],
    ["upper-case hex", TRACEPARENT.toUpperCase()],
    ["a short span id", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa-01"],
    ["a long value", `00-${"a".repeat(500)}`],
  ])("is ignored with a reason, never failing the inputs: %s", (_, value) => {
    const parsed = actionInputsSchema.safeParse({ ...REQUIRED, traceparent: value });
    expect(parsed.success).toBe(true);
    const input = parsed.data?.traceparent;
    expect(input && "ignored" in input ? input.ignored : "").toMatch(/is not a W3C traceparent.*start a trace of their own/);
    // The warning quotes the value, cut short.
    expect(input && "ignored" in input ? input.ignored.length : 0).toBeLessThan(250);
  });
});
