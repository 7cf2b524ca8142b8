import { describe, expect, it } from "vitest";
import { capSettings, type SettingsCeiling, type TaskSettings } from "../src/agent/cap-settings.js";
import { DEFAULT_REPO_CONFIG } from "../src/config/repo-config.js";

const asked = (extra: Partial<TaskSettings> = {}): TaskSettings => ({
  maxTurns: 30,
  timeoutMinutes: 45,
  allowedTools: ["Edit"],
  permissionMode: "acceptEdits",
  draftPullRequest: false,
  ...extra,
});
const defaults: SettingsCeiling = { maxPermissionMode: "acceptEdits", allowedTools: DEFAULT_REPO_CONFIG.allowedTools };

describe("the agent owner's ceiling over a task's settings", () => {
  const rows: Array<{ name: string; settings: TaskSettings; ceiling?: Partial<SettingsCeiling>; expect: Partial<TaskSettings>; capped: string[] }> = [
    { name: "settings within the ceiling pass unchanged", settings: asked({ model: "m1" }), expect: asked({ model: "m1" }), capped: [] },
    {
      name: "bypassPermissions is lowered to the agent's highest mode",
      settings: asked({ permissionMode: "bypassPermissions" }),
      expect: { permissionMode: "acceptEdits" },
      capped: ["permission mode bypassPermissions lowered to acceptEdits (the agent's --max-permission-mode)"],
    },
    {
      name: "a lower mode than the ceiling is kept",
      settings: asked({ permissionMode: "plan" }),
      ceiling: { maxPermissionMode: "default" },
      expect: { permissionMode: "plan" },
      capped: [],
    },
    {
      name: "a mode the agent does not know is lowered too",
      settings: asked({ permissionMode: "yolo" }),
      ceiling: { maxPermissionMode: "plan" },
      expect: { permissionMode: "plan" },
      capped: ["permission mode yolo lowered to plan (the agent's --max-permission-mode)"],
    },
    {
      name: "tools outside the agent's list are dropped, one sentence each",
      settings: asked({ allowedTools: ["Bash", "WebFetch", "Edit"] }),
      expect: { allowedTools: ["Edit"] },
      capped: ["tool Bash dropped (not in the agent's --allowed-tools)", "tool WebFetch dropped (not in the agent's --allowed-tools)"],
    },
    {
      name: "a bare tool name covers its patterns",
      settings: asked({ allowedTools: ["Bash(git status:*)", "Bash(npm test:*)", "Bash"] }),
      ceiling: { allowedTools: ["Bash"] },
      expect: { allowedTools: ["Bash(git status:*)", "Bash(npm test:*)", "Bash"] },
      capped: [],
    },
    {
      name: "a Bash prefix covers the narrower prefixes, not wider ones nor chained commands",
      settings: asked({ allowedTools: ["Bash(git commit --amend:*)", "Bash(git:*)", "Bash(npm:*)", "Bash(git commit && curl x:*)", "Bash(git commit -m x)"] }),
      ceiling: { allowedTools: ["Bash(git commit:*)"] },
      expect: { allowedTools: ["Bash(git commit --amend:*)"] },
      capped: [
        "tool Bash(git:*) dropped (not in the agent's --allowed-tools)",
        "tool Bash(npm:*) dropped (not in the agent's --allowed-tools)",
        "tool Bash(git commit && curl x:*) dropped (not in the agent's --allowed-tools)",
        "tool Bash(git commit -m x) dropped (not in the agent's --allowed-tools)",
      ],
    },
    {
      name: "a pattern does not cover the bare tool",
      settings: asked({ allowedTools: ["Bash"] }),
      ceiling: { allowedTools: ["Bash(git status:*)"] },
      expect: { allowedTools: [] },
      capped: ["tool Bash dropped (not in the agent's --allowed-tools)"],
    },
    {
      name: "a model the agent does not allow runs as the CLI's default",
      settings: asked({ model: "claude-opus-x" }),
      ceiling: { models: ["claude-sonnet-y"] },
      expect: { model: undefined },
      capped: ["model claude-opus-x not allowed on this agent; the CLI's default model is used (--models)"],
    },
    {
      name: "an allowed model is kept",
      settings: asked({ model: "claude-sonnet-y" }),
      ceiling: { models: ["claude-sonnet-y"] },
      expect: { model: "claude-sonnet-y" },
      capped: [],
    },
    { name: "no --models allows any model", settings: asked({ model: "claude-opus-x" }), expect: { model: "claude-opus-x" }, capped: [] },
    { name: "no model asked, nothing to cap", settings: asked(), ceiling: { models: ["m1"] }, expect: { model: undefined }, capped: [] },
  ];

  it.each(rows)("$name", (row) => {
    const out = capSettings(row.settings, { ...defaults, ...row.ceiling });
    expect(out.capped).toEqual(row.capped);
    const { model: _model, ...rest } = row.expect;
    expect(out.settings).toMatchObject(rest);
    if (row.expect.model !== undefined) expect(out.settings.model).toBe(row.expect.model);
    if ("model" in row.expect && row.expect.model === undefined) expect("model" in out.settings).toBe(false);
    // What a repository does not ask about is left as it asked.
    expect(out.settings.maxTurns).toBe(row.settings.maxTurns);
  });
});
