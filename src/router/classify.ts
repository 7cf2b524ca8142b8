import type { RepoConfig } from "../config/repo-config.js";
import { prioritySchema, type Priority } from "../shared/priority.js";
import { GENERAL, specialtySchema } from "../shared/specialty.js";
import { STATE_LABELS } from "../shared/task-state.js";
import { BUILTIN_KEYWORDS } from "./keywords.js";

export interface Classification {
  specialty: string;
  priority: Priority;
  /** One short sentence for the tracking comment: why this specialty. */
  reason: string;
}

export interface ClassifyIssue {
  title: string;
  body: string | null;
  labels: string[];
}

export interface ClassifyHint {
  /** From `/claude run <specialty>`; wins over labels and keywords. */
  specialty?: string;
  /** From `/claude run … priority:<p>`; wins over `priority:<p>` labels. */
  priority?: Priority;
}

/** How many matched keywords the reason names before it says "…". */
const REASON_KEYWORDS = 5;

/**
 * Picks the specialty and priority of a task: an explicit hint, then labels, then keyword
 * scores, then `general`. A specialty no live agent serves becomes `general`, so no task
 * waits on a queue that nobody consumes. `liveSpecialties` is "any" when the caller cannot
 * know (e.g. self-hosted runners), which skips that check.
 */
export function classify(issue: ClassifyIssue, config: RepoConfig, liveSpecialties: ReadonlySet<string> | "any", hint: ClassifyHint = {}): Classification {
  const picked = hint.specialty
    ? { specialty: hint.specialty.toLowerCase(), reason: `requested ${hint.specialty.toLowerCase()} explicitly` }
    : (byLabel(issue.labels, config) ?? byKeywords(issue, config) ?? { specialty: GENERAL, reason: "no label or keyword matched" });
  const priority = hint.priority ?? priorityLabel(issue.labels) ?? config.defaultPriority;
  if (picked.specialty !== GENERAL && liveSpecialties !== "any" && !liveSpecialties.has(picked.specialty)) {
    return {
      specialty: GENERAL,
      priority,
      reason: `${picked.reason}, but no live agent serves ${picked.specialty}; falling back to general`,
    };
  }
  return { specialty: picked.specialty, priority, reason: picked.reason };
}

interface Pick {
  specialty: string;
  reason: string;
}

/** `claude:frontend` labels first, then the repo's label map; the first label in issue order wins. */
function byLabel(labels: readonly string[], config: RepoConfig): Pick | undefined {
  const prefix = `${config.triggerLabel.toLowerCase()}:`;
  const mapped = new Map(Object.entries(config.labels).map(([name, specialty]) => [name.toLowerCase(), specialty]));
  const named: { label: string; specialty: string; viaMap: boolean }[] = [];
  // Two passes keep trigger-prefixed labels ahead of mapped ones regardless of label order.
  for (const label of labels) {
    const lower = label.trim().toLowerCase();
    if (STATE_LABELS.includes(lower) || !lower.startsWith(prefix)) continue;
    const specialty = specialtySchema.safeParse(lower.slice(prefix.length));
    if (specialty.success) named.push({ label, specialty: specialty.data, viaMap: false });
  }
  for (const label of labels) {
    const lower = label.trim().toLowerCase();
    const specialty = STATE_LABELS.includes(lower) ? undefined : mapped.get(lower);
    if (specialty) named.push({ label, specialty, viaMap: true });
  }
  const [first, ...rest] = named;
  if (!first) return undefined;
  const base = first.viaMap ? `label ${first.label} (mapped to ${first.specialty} in repo config)` : `label ${first.label}`;
  const others = [...new Set(rest.filter((n) => n.specialty !== first.specialty).map((n) => n.label))];
  const reason = others.length > 0 ? `${base}; first of several, also ${others.join(", ")}` : base;
  return { specialty: first.specialty, reason };
}

/** The first `priority:<p>` label with a valid value, in issue order. */
function priorityLabel(labels: readonly string[]): Priority | undefined {
  for (const label of labels) {
    const match = /^priority:(.*)$/i.exec(label.trim());
    const priority = prioritySchema.safeParse(match?.[1]?.trim().toLowerCase());
    if (priority.success) return priority.data;
  }
  return undefined;
}

interface KeywordEntry {
  specialty: string;
  keyword: string;
  words: string[];
}

interface Tally {
  score: number;
  /** Distinct keywords hit, in order of first hit (title first). */
  hits: Set<string>;
}

/** Letters, marks and digits; everything else separates words. */
const WORD = /[\p{L}\p{M}\p{N}]+/gu;

function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** Scores every specialty by whole-word hits; title hits count double. One pass per text. */
function byKeywords(issue: ClassifyIssue, config: RepoConfig): Pick | undefined {
  const index = keywordIndex(config);
  const tallies = new Map<string, Tally>();
  tally(words(issue.title), 2, index, tallies);
  tally(words(issue.body ?? ""), 1, index, tallies);
  let best: [string, Tally] | undefined;
  const ranked = [...tallies].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const entry of ranked) if (!best || entry[1].score > best[1].score) best = entry;
  if (!best || best[1].score < 1) return undefined;
  const [specialty, { score, hits }] = best;
  const tied = ranked.filter(([name, t]) => name !== specialty && t.score === score).map(([name]) => name);
  const listed = [...hits].slice(0, REASON_KEYWORDS).join(", ") + (hits.size > REASON_KEYWORDS ? ", …" : "");
  const tie = tied.length > 0 ? `; tied with ${tied.join(", ")}, picked alphabetically` : "";
  return { specialty, reason: `keywords: ${listed} (score ${score}${tie})` };
}

/** One index per keyword table: configs are parsed once and reused (see parseRepoConfig). */
const indexes = new WeakMap<RepoConfig["keywords"], Map<string, KeywordEntry[]>>();

/** Built-in and repo keywords keyed by first word, so scoring is one map lookup per word. */
function keywordIndex(config: RepoConfig): Map<string, KeywordEntry[]> {
  const cached = indexes.get(config.keywords);
  if (cached) return cached;
  const index = new Map<string, KeywordEntry[]>();
  indexes.set(config.keywords, index);
  const seen = new Set<string>();
  const lists: [string, readonly string[]][] = [...Object.entries(BUILTIN_KEYWORDS), ...Object.entries(config.keywords)];
  for (const [specialty, keywords] of lists) {
    for (const keyword of keywords) {
      const kw = words(keyword);
      const first = kw[0];
      const key = `${specialty}\u0000${kw.join(" ")}`;
      // A repo re-listing a built-in word must not count it twice.
      if (first === undefined || seen.has(key)) continue;
      seen.add(key);
      const entries = index.get(first) ?? [];
      entries.push({ specialty, keyword: kw.join(" "), words: kw });
      index.set(first, entries);
    }
  }
  return index;
}

function tally(text: string[], weight: number, index: Map<string, KeywordEntry[]>, tallies: Map<string, Tally>): void {
  for (let i = 0; i < text.length; i++) {
    const entries = index.get(text[i]!);
    if (!entries) continue;
    for (const entry of entries) {
      if (!entry.words.every((word, j) => text[i + j] === word)) continue;
      const t = tallies.get(entry.specialty) ?? { score: 0, hits: new Set<string>() };
      t.score += weight;
      t.hits.add(entry.keyword);
      tallies.set(entry.specialty, t);
    }
  }
}
