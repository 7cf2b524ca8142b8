import { describe, expect, it } from "vitest";
import type { Blocker } from "../src/github/read-blockers.js";
import { cycleMessage, judgeDependencies, type DependencyVerdict } from "../src/reconciler/judge-dependencies.js";
import { issueMention } from "../src/shared/task-id.js";

const HERE = { owner: "octo-org", repo: "hello" };
const blocker = (number: number, state: Blocker["state"], repo = "octo-org/hello"): Blocker => {
  const [owner, name] = repo.split("/") as [string, string];
  return { ref: { owner, repo: name, number }, state };
};

describe("judgeDependencies decides whether a task waits, and whether the wait can end", () => {
  it.each<[string, Blocker[], Record<string, string[]>, DependencyVerdict]>([
    ["no blockers", [], {}, { kind: "clear" }],
    ["every blocker closed", [blocker(40, "closed"), blocker(41, "closed")], {}, { kind: "clear" }],
    ["one open blocker", [blocker(40, "open")], {}, { kind: "blocked", open: ["octo-org/hello#40"], unreadable: [] }],
    ["the open ones of several", [blocker(40, "closed"), blocker(41, "open")], {}, { kind: "blocked", open: ["octo-org/hello#41"], unreadable: [] }],
    [
      "a blocker the app cannot read holds the task",
      [blocker(3, "unreadable", "other/private")],
      {},
      { kind: "blocked", open: [], unreadable: ["other/private#3"] },
    ],
    [
      "a blocker that waits for something else is no cycle",
      [blocker(40, "open")],
      { "octo-org/hello#40": ["octo-org/hello#41"] },
      { kind: "blocked", open: ["octo-org/hello#40"], unreadable: [] },
    ],
    [
      "two issues waiting for each other",
      [blocker(40, "open")],
      { "octo-org/hello#40": ["octo-org/hello#7"] },
      { kind: "cycle", cycle: ["octo-org/hello#7", "octo-org/hello#40", "octo-org/hello#7"] },
    ],
    [
      "a longer cycle, across repositories and cases",
      [blocker(40, "open")],
      { "octo-org/hello#40": ["Other/Api#2"], "other/api#2": ["Octo-Org/Hello#7"] },
      { kind: "cycle", cycle: ["octo-org/hello#7", "octo-org/hello#40", "Other/Api#2", "octo-org/hello#7"] },
    ],
    [
      "a cycle among the blockers that does not come back is not this task's",
      [blocker(40, "open")],
      { "octo-org/hello#40": ["octo-org/hello#41"], "octo-org/hello#41": ["octo-org/hello#40"] },
      { kind: "blocked", open: ["octo-org/hello#40"], unreadable: [] },
    ],
    ["a closed blocker breaks the cycle", [blocker(40, "closed")], { "octo-org/hello#40": ["octo-org/hello#7"] }, { kind: "clear" }],
  ])("%s", (_name, blockers, waitsFor, verdict) => {
    expect(judgeDependencies({ taskId: "octo-org/hello#7", blockers, waitsFor: new Map(Object.entries(waitsFor)) })).toEqual(verdict);
  });
});

describe("what the issue says", () => {
  it.each([
    ["octo-org/hello#40", "#40"],
    ["Octo-Org/HELLO#40", "#40"],
    ["other/api#2", "other/api#2"],
  ])("names %s as %s", (id, mention) => {
    expect(issueMention(id, HERE)).toBe(mention);
  });

  it("names the cycle", () => {
    const message = cycleMessage(["octo-org/hello#7", "octo-org/hello#40", "other/api#2", "octo-org/hello#7"], HERE);
    expect(message).toBe(
      "its issues wait for each other in a cycle (#7 waits for #40, which waits for other/api#2, which waits for #7), so none of them would ever start",
    );
  });
});
