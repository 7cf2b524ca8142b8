import { UserFacingError } from "./user-facing-error.js";

/**
 * A Redis topology setting is wrong or names something that is not there (both REDIS_URL and
 * REDIS_SENTINELS, a malformed sentinel list, a master group the sentinels do not know, an
 * unreadable CA file). Every process exits 1 on it; the message names the variable and the fix.
 */
export class RedisSettingsError extends UserFacingError {
  override readonly name = "RedisSettingsError";
  declare readonly code: "redis-settings-invalid";
  constructor(message: string) {
    super(message, { code: "redis-settings-invalid" });
  }
}
