/**
 * When a Claude usage limit resets, read from the CLI's own words. The CLI has said it in
 * several ways over the years, so each form is tried in turn:
 *
 * - `Claude AI usage limit reached|1767225600` (1.0.x; epoch seconds)
 * - `Claude usage limit reached. Your limit will reset at 5pm (Europe/Warsaw).`
 * - `You've hit your session limit · resets 8:20pm (Asia/Singapore)`
 * - `You've hit your limit · resets Mar 15 at 12pm (Europe/London)`
 * - `You will regain access on 2026-04-01 at 00:00 UTC.` (API spend limits)
 *
 * Wall-clock forms name a time in an IANA zone; the reset is the next such time after `now`.
 * Returns epoch milliseconds, or undefined when the text names no time we can trust.
 */
export function parseResetTime(text: string, now: number): number | undefined {
  const epoch = /usage limit reached\|(\d{9,13})/i.exec(text);
  if (epoch) {
    const value = Number(epoch[1]);
    // Seconds in every CLI seen; accept milliseconds too rather than wait 50 000 years.
    return value < 1e11 ? value * 1000 : value;
  }
  const regain = /regain access on (\d{4})-(\d{2})-(\d{2}) at (\d{2}):(\d{2}) UTC/i.exec(text);
  if (regain) {
    const [, y, mo, d, h, mi] = regain.map(Number) as [number, number, number, number, number, number];
    return Date.UTC(y, mo - 1, d, h, mi);
  }
  const wall = WALL_CLOCK.exec(text);
  if (!wall) return undefined;
  const [, monthName, day, hour, minute, meridiem, zone] = wall;
  const hour24 = (Number(hour) % 12) + (meridiem!.toLowerCase() === "pm" ? 12 : 0);
  const date = monthName && day ? { month: MONTHS.indexOf(monthName.slice(0, 3).toLowerCase()) + 1, day: Number(day) } : undefined;
  // Without a zone the CLI used the local zone of the machine it ran on, which is this one.
  const timeZone = zone?.trim() || Intl.DateTimeFormat().resolvedOptions().timeZone;
  return nextWallClockTime({ now, hour: hour24, minute: Number(minute ?? 0), timeZone, date });
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** `reset at 5pm (Europe/Warsaw)`, `resets 8:20pm (Asia/Singapore)`, `resets Mar 15 at 12pm (Europe/London)`. */
const WALL_CLOCK = /resets?(?: at)?\s+(?:([A-Z][a-z]{2,8})\.? (\d{1,2}),? (?:at )?)?(\d{1,2})(?::(\d{2}))?\s*([ap]m)\b(?:\s*\(([A-Za-z0-9_+\-/]+)\))?/i;

interface WallClock {
  now: number;
  hour: number;
  minute: number;
  timeZone: string;
  /** A calendar day (in `timeZone`) when the text names one; otherwise today or tomorrow. */
  date?: { month: number; day: number } | undefined;
}

/** The first moment after `now` when clocks in `timeZone` show `hour:minute` (on `date`, if given). */
export function nextWallClockTime({ now, hour, minute, timeZone, date }: WallClock): number | undefined {
  let today: ZonedParts;
  try {
    today = zonedParts(now, timeZone);
  } catch {
    return undefined; // an unknown zone name: RangeError from Intl
  }
  if (date) {
    if (date.month < 1) return undefined;
    const thisYear = zonedToEpoch({ ...today, month: date.month, day: date.day, hour, minute }, timeZone);
    // "Jan 2" read on Dec 30 means next year; allow a day of slack for a reset just passed.
    if (thisYear > now - 86_400_000) return thisYear;
    return zonedToEpoch({ ...today, year: today.year + 1, month: date.month, day: date.day, hour, minute }, timeZone);
  }
  const candidate = zonedToEpoch({ ...today, hour, minute }, timeZone);
  if (candidate > now) return candidate;
  return zonedToEpoch({ ...today, day: today.day + 1, hour, minute }, timeZone);
}

interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

function zonedParts(epoch: number, timeZone: string): ZonedParts & { second: number } {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  const parts = Object.fromEntries(format.formatToParts(new Date(epoch)).map((part) => [part.type, part.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** How far `timeZone` is ahead of UTC at `epoch`. */
function offsetAt(epoch: number, timeZone: string): number {
  const p = zonedParts(epoch, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(epoch / 1000) * 1000;
}

/** Wall-clock time in `timeZone` to epoch ms. Date.UTC normalises day overflow (Jan 32 → Feb 1). */
function zonedToEpoch(wall: ZonedParts, timeZone: string): number {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  const guess = asUtc - offsetAt(asUtc, timeZone);
  // Re-check once: the offset at the answer differs from the guess's when DST changes in between.
  return asUtc - offsetAt(guess, timeZone);
}
