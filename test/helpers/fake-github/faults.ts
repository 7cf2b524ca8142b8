import { json, type Reply } from "./route.js";

interface OneShot {
  method: string;
  path: string | RegExp;
  reply: Reply;
  remaining: number;
}

export const SECONDARY_RATE_LIMIT_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.";

/** Comment writes, which `slowWrites` delays. */
const COMMENT_WRITE = /^(POST \/repos\/[^/]+\/[^/]+\/issues\/\d+\/comments|PATCH \/repos\/[^/]+\/[^/]+\/issues\/comments\/\d+)$/;
const TOKEN_CALL = /^POST \/app\/installations\/\d+\/access_tokens$/;

/** What the fake GitHub does wrong on purpose: outages, rate limits, single failures, slowness. */
export class Faults {
  private down: Reply | undefined;
  private limited: Reply | undefined;
  private readonly oneShots: OneShot[] = [];
  private slowWritesMs = 0;

  /** Every call, token calls included, answers `status` until `recover()`. */
  outage({ status = 503 }: { status?: number } = {}): void {
    this.down = json(status, { message: status === 503 ? "Service Unavailable" : "Server Error" });
  }

  /** Every call but installation tokens answers 403 "secondary rate limit" with retry-after, until `recover()`. */
  secondaryRateLimit({ retryAfterSeconds = 60 }: { retryAfterSeconds?: number } = {}): void {
    this.limited = json(
      403,
      {
        message: SECONDARY_RATE_LIMIT_MESSAGE,
        documentation_url: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
      },
      { "retry-after": String(retryAfterSeconds) },
    );
  }

  /** Ends an outage and a rate limit; one-shot failures stay armed. */
  recover(): void {
    this.down = undefined;
    this.limited = undefined;
  }

  /** The next `times` calls of `method path` (exact path without /api/v3, or a pattern) get `reply`. */
  failNext(method: string, path: string | RegExp, reply: Reply = json(502, { message: "Bad Gateway" }), times = 1): void {
    this.oneShots.push({ method: method.toUpperCase(), path, reply, remaining: times });
  }

  /** Comment creates and edits take `ms` longer to answer; 0 turns it off. */
  slowWrites(ms: number): void {
    this.slowWritesMs = ms;
  }

  /** The failure `method path` gets now, if any; uses up a one-shot failure. */
  failure(method: string, path: string): Reply | undefined {
    const call = `${method} ${path}`;
    if (this.down) return this.down;
    if (this.limited && !TOKEN_CALL.test(call)) return this.limited;
    const shot = this.oneShots.find((s) => s.method === method && (typeof s.path === "string" ? s.path === path : s.path.test(path)));
    if (!shot) return undefined;
    if (--shot.remaining <= 0) this.oneShots.splice(this.oneShots.indexOf(shot), 1);
    return shot.reply;
  }

  delayMs(method: string, path: string): number {
    return COMMENT_WRITE.test(`${method} ${path}`) ? this.slowWritesMs : 0;
  }
}
