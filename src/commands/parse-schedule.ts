/** How far ahead a task may be scheduled: queued jobs and their records outlive a week. */
export const SCHEDULE_MAX_MS = 7 * 24 * 3_600_000;

/** The forms `at` and `in` accept, for error replies and help. */
export const SCHEDULE_FORMS = "`at 02:00` (UTC, the next one to come), `at 2026-12-24T06:00Z`, `in 90m`, `in 2h` or `in 1d12h`";

export type ScheduleParse = { kind: "ok"; at: number; tokens: number } | { kind: "error"; error: string };

const DURATION = /^(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,5})m(?:in)?)?$/i;
const CLOCK = /^([01]?\d|2[0-3]):([0-5]\d)(z)?$/i;
/** A date and time; without a zone it is UTC, like every time the cluster shows. */
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[t ](\d{2}:\d{2}(?::\d{2})?)(z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Reads the start time after `at` or `in` from a command's words. `tokens` is how many words
 * the time took (a trailing `UTC` counts). Pure: `now` is the time `in` counts from and the
 * day `at HH:MM` falls on.
 */
export function parseSchedule(keyword: "at" | "in", words: readonly string[], now: number): ScheduleParse {
  const word = words[0];
  if (word === undefined) return { kind: "error", error: `\`${keyword}\` needs a time after it` };
  if (keyword === "in") {
    const match = DURATION.exec(word);
    if (!match || (match[1] ?? match[2] ?? match[3]) === undefined) return { kind: "error", error: `\`in ${clip(word)}\` is not a duration` };
    const ms = (Number(match[1] ?? 0) * 24 * 60 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)) * 60_000;
    return within(now + ms, now, 1);
  }
  const utcWord = words[1]?.toUpperCase() === "UTC" ? 1 : 0;
  const clock = CLOCK.exec(word);
  if (clock) {
    const day = new Date(now);
    let at = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), Number(clock[1]), Number(clock[2]));
    if (at <= now) at += 24 * 3_600_000;
    return within(at, now, 1 + utcWord);
  }
  const dateTime = DATE_TIME.exec(word);
  if (dateTime) {
    const zone = (dateTime[3] ?? "Z").toUpperCase();
    const at = Date.parse(`${dateTime[1]}T${dateTime[2]}${zone === "Z" ? "Z" : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
    if (Number.isNaN(at)) return { kind: "error", error: `\`at ${clip(word)}\` is not a date and time` };
    if (at <= now) return { kind: "error", error: `\`at ${clip(word)}\` is in the past` };
    return within(at, now, 1 + utcWord);
  }
  return { kind: "error", error: `\`at ${clip(word)}\` is not a time` };
}

function within(at: number, now: number, tokens: number): ScheduleParse {
  if (at - now > SCHEDULE_MAX_MS) return { kind: "error", error: "a task can be scheduled at most 7 days ahead" };
  return { kind: "ok", at, tokens };
}

/** Echoes a user's word inside a code span: short and without backticks. */
function clip(word: string): string {
  const clean = word.replace(/`/g, "'");
  return clean.length > 30 ? `${clean.slice(0, 30)}…` : clean;
}
