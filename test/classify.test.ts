import { describe, expect, it } from "vitest";
import { DEFAULT_REPO_CONFIG, repoConfigSchema, type RepoConfig } from "../src/config/repo-config.js";
import { classify, type ClassifyHint, type ClassifyIssue } from "../src/router/classify.js";
import { BUILTIN_KEYWORDS } from "../src/router/keywords.js";
import { DEFAULT_SPECIALTIES } from "../src/shared/specialty.js";
import { STATE_LABELS } from "../src/shared/task-state.js";

const ALL = "any" as const;
const issue = (overrides: Partial<ClassifyIssue> = {}): ClassifyIssue => ({ title: "Something", body: null, labels: [], ...overrides });
const config = (raw: Record<string, unknown>): RepoConfig => repoConfigSchema.parse(raw);
const REPO = config({
  triggerLabel: "ai",
  labels: { UI: "frontend", api: "backend", "good first issue": "docs" },
  keywords: { frontend: ["css"], "data-eng": ["etl", "airflow", "data pipeline"] },
  defaultPriority: "low",
});

describe("classify picks the specialty", () => {
  it.each<[string, ClassifyIssue, RepoConfig, ClassifyHint, string, string]>([
    // (1) an explicit request wins over everything
    [
      "a requested specialty wins over labels and keywords",
      issue({ title: "css", labels: ["claude:backend"] }),
      DEFAULT_REPO_CONFIG,
      { specialty: "docs" },
      "docs",
      "requested docs explicitly",
    ],
    ["a requested specialty the repo defines itself", issue(), DEFAULT_REPO_CONFIG, { specialty: "data-eng" }, "data-eng", "requested data-eng explicitly"],
    // (2) labels
    ["a claude:<specialty> label", issue({ labels: ["claude:frontend"] }), DEFAULT_REPO_CONFIG, {}, "frontend", "label claude:frontend"],
    ["a label in any case", issue({ labels: ["Claude:Frontend"] }), DEFAULT_REPO_CONFIG, {}, "frontend", "label Claude:Frontend"],
    ["a label wins over keywords", issue({ title: "css css css", labels: ["claude:backend"] }), DEFAULT_REPO_CONFIG, {}, "backend", "label claude:backend"],
    ["a label naming a specialty the repo defines", issue({ labels: ["claude:data-eng"] }), DEFAULT_REPO_CONFIG, {}, "data-eng", "label claude:data-eng"],
    ["the repo's own trigger label", issue({ labels: ["ai:testing"] }), REPO, {}, "testing", "label ai:testing"],
    ["another app's prefix is not a trigger label", issue({ labels: ["claude:testing"] }), REPO, {}, "general", "no label or keyword matched"],
    ["a label from the repo's label map", issue({ labels: ["bug", "ui"] }), REPO, {}, "frontend", "label ui (mapped to frontend in repo config)"],
    ["a mapped label with spaces", issue({ labels: ["good first issue"] }), REPO, {}, "docs", "label good first issue (mapped to docs in repo config)"],
    [
      "a trigger label wins over a mapped label listed before it",
      issue({ labels: ["api", "ai:frontend"] }),
      REPO,
      {},
      "frontend",
      "label ai:frontend; first of several, also api",
    ],
    [
      "the first of two conflicting labels, saying so",
      issue({ labels: ["claude:frontend", "claude:backend"] }),
      DEFAULT_REPO_CONFIG,
      {},
      "frontend",
      "label claude:frontend; first of several, also claude:backend",
    ],
    [
      "the first of two conflicting mapped labels",
      issue({ labels: ["api", "UI"] }),
      REPO,
      {},
      "backend",
      "label api (mapped to backend in repo config); first of several, also UI",
    ],
    ["two labels agreeing is no conflict", issue({ labels: ["ai:frontend", "ui"] }), REPO, {}, "frontend", "label ai:frontend"],
    [
      "state labels are not specialties",
      issue({ title: "fix css", labels: [...STATE_LABELS] }),
      DEFAULT_REPO_CONFIG,
      {},
      "frontend",
      "keywords: css (score 2)",
    ],
    ["the bare trigger label names no specialty", issue({ labels: ["claude"] }), DEFAULT_REPO_CONFIG, {}, "general", "no label or keyword matched"],
    ["an empty suffix names no specialty", issue({ labels: ["claude:"] }), DEFAULT_REPO_CONFIG, {}, "general", "no label or keyword matched"],
    [
      "a suffix that is not a specialty name is ignored",
      issue({ labels: ["claude:priority:high", "claude:not valid"] }),
      DEFAULT_REPO_CONFIG,
      {},
      "general",
      "no label or keyword matched",
    ],
    ["a claude:general label", issue({ title: "css", labels: ["claude:general"] }), DEFAULT_REPO_CONFIG, {}, "general", "label claude:general"],
    // (3) keywords
    ["a keyword in the body", issue({ body: "The button is broken." }), DEFAULT_REPO_CONFIG, {}, "frontend", "keywords: button (score 1)"],
    ["title keywords count double", issue({ title: "Slow SQL", body: "the button" }), DEFAULT_REPO_CONFIG, {}, "backend", "keywords: sql (score 2)"],
    ["every hit counts", issue({ body: "the button and the css and the button" }), DEFAULT_REPO_CONFIG, {}, "frontend", "keywords: button, css (score 3)"],
    ["the highest score wins", issue({ title: "API", body: "test tests flaky" }), DEFAULT_REPO_CONFIG, {}, "testing", "keywords: test, tests, flaky (score 3)"],
    [
      "a tie goes to the alphabetically first, saying so",
      issue({ body: "css sql" }),
      DEFAULT_REPO_CONFIG,
      {},
      "backend",
      "keywords: sql (score 1; tied with frontend, picked alphabetically)",
    ],
    ["whole words only", issue({ body: "rebuild.ui-kit is fine; guilty, builder, apiary" }), DEFAULT_REPO_CONFIG, {}, "frontend", "keywords: ui (score 1)"],
    ["case does not matter", issue({ title: "DOCKERFILE broken" }), DEFAULT_REPO_CONFIG, {}, "devops", "keywords: dockerfile (score 2)"],
    ["a two-word keyword", issue({ body: "add dark mode" }), DEFAULT_REPO_CONFIG, {}, "frontend", "keywords: dark mode (score 1)"],
    ["a hyphenated keyword matches with a space too", issue({ body: "front end only" }), DEFAULT_REPO_CONFIG, {}, "frontend", "keywords: front end (score 1)"],
    ["words in code blocks count", issue({ body: "```\nSELECT 1; -- sql\n```" }), DEFAULT_REPO_CONFIG, {}, "backend", "keywords: sql (score 1)"],
    ["repo keywords add a new specialty", issue({ title: "Airflow ETL job" }), REPO, {}, "data-eng", "keywords: airflow, etl (score 4)"],
    [
      "repo phrases work, and their words still count alone",
      issue({ body: "the data pipeline stalls" }),
      REPO,
      {},
      "data-eng",
      "keywords: data pipeline (score 1; tied with devops, picked alphabetically)",
    ],
    ["built-in keywords still count with repo keywords", issue({ body: "layout" }), REPO, {}, "frontend", "keywords: layout (score 1)"],
    ["a repo repeating a built-in keyword does not double it", issue({ body: "css" }), REPO, {}, "frontend", "keywords: css (score 1)"],
    [
      "the reason lists at most five keywords",
      issue({ body: "ui ux css html react vue svelte" }),
      DEFAULT_REPO_CONFIG,
      {},
      "frontend",
      "keywords: ui, ux, css, html, react, … (score 7)",
    ],
    // (4) general
    ["nothing matches", issue({ title: "Hmm", body: "It does not work." }), DEFAULT_REPO_CONFIG, {}, "general", "no label or keyword matched"],
    ["an empty issue", issue({ title: "", body: "" }), DEFAULT_REPO_CONFIG, {}, "general", "no label or keyword matched"],
    ["a null body", issue({ title: "Help", body: null }), DEFAULT_REPO_CONFIG, {}, "general", "no label or keyword matched"],
    ["non-Latin text", issue({ title: "ボタンが壊れた", body: "Кнопка не работает" }), DEFAULT_REPO_CONFIG, {}, "general", "no label or keyword matched"],
  ])("%s", (_name, input, repo, hint, specialty, reason) => {
    expect(classify(input, repo, ALL, hint)).toMatchObject({ specialty, reason });
  });
});

describe("classify falls back to general when no live agent serves the specialty", () => {
  it.each<[string, ClassifyIssue, ReadonlySet<string> | "any", ClassifyHint, string, string]>([
    [
      "a label nobody serves",
      issue({ labels: ["claude:frontend"] }),
      new Set(["backend"]),
      {},
      "general",
      "label claude:frontend, but no live agent serves frontend; falling back to general",
    ],
    [
      "keywords nobody serves",
      issue({ body: "css" }),
      new Set(["backend"]),
      {},
      "general",
      "keywords: css (score 1), but no live agent serves frontend; falling back to general",
    ],
    [
      "a request nobody serves",
      issue(),
      new Set(),
      { specialty: "security" },
      "general",
      "requested security explicitly, but no live agent serves security; falling back to general",
    ],
    ["a served label stays", issue({ labels: ["claude:frontend"] }), new Set(["frontend"]), {}, "frontend", "label claude:frontend"],
    ["general needs no check", issue(), new Set(), {}, "general", "no label or keyword matched"],
    ["a claude:general label with no agents at all", issue({ labels: ["claude:general"] }), new Set(), {}, "general", "label claude:general"],
    ["'any' skips the check", issue({ labels: ["claude:frontend"] }), "any", {}, "frontend", "label claude:frontend"],
  ])("%s", (_name, input, live, hint, specialty, reason) => {
    expect(classify(input, DEFAULT_REPO_CONFIG, live, hint)).toMatchObject({ specialty, reason });
  });
});

describe("classify picks the priority", () => {
  it.each<[string, string[], RepoConfig, ClassifyHint, string]>([
    ["the repo default without a label", [], REPO, {}, "low"],
    ["normal when the repo says nothing", [], DEFAULT_REPO_CONFIG, {}, "normal"],
    ["a priority label", ["priority:urgent"], REPO, {}, "urgent"],
    ["a priority label in any case", ["Priority:HIGH"], REPO, {}, "high"],
    ["the first of two priority labels", ["priority:high", "priority:low"], DEFAULT_REPO_CONFIG, {}, "high"],
    ["an invalid priority label is ignored", ["priority:asap", "priority:low"], DEFAULT_REPO_CONFIG, {}, "low"],
    ["a requested priority wins over labels", ["priority:low"], DEFAULT_REPO_CONFIG, { priority: "urgent" }, "urgent"],
  ])("%s", (_name, labels, repo, hint, priority) => {
    expect(classify(issue({ labels }), repo, ALL, hint).priority).toBe(priority);
  });
});

describe("classify keyword lists", () => {
  it.each(DEFAULT_SPECIALTIES)("an issue titled with the %s specialty's own name goes there", (specialty) => {
    expect(classify(issue({ title: specialty }), DEFAULT_REPO_CONFIG, ALL).specialty).toBe(specialty);
  });

  it.each(DEFAULT_SPECIALTIES)("every %s keyword has at least one word", (specialty) => {
    for (const keyword of BUILTIN_KEYWORDS[specialty]) expect(keyword).toMatch(/[a-z0-9]/);
  });
});

describe("classify on huge issues", () => {
  it("scores a 65,536-character body quickly and correctly", () => {
    const body = "the css is off and the page breaks. ".repeat(1821).slice(0, 65_536);
    const started = performance.now();
    const result = classify(issue({ title: "Bug", body }), REPO, new Set(["frontend"]));
    expect(result.specialty).toBe("frontend");
    expect(result.reason).toMatch(/^keywords: css, page \(score \d+\)$/);
    // Generous bound: only a quadratic blow-up (seconds) should trip it.
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("finds nothing in a huge body without keywords", () => {
    expect(classify(issue({ body: "x".repeat(65_536) }), DEFAULT_REPO_CONFIG, ALL).specialty).toBe("general");
  });
});
