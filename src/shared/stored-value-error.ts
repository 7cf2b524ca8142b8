import { UserFacingError } from "./user-facing-error.js";

/**
 * A value read back from Redis that its schema rejects: written by a process of another
 * version, or edited by hand. Thrown rather than read as absent, so that a corrupt pause or
 * cluster mode never quietly reads as "running".
 */
export class StoredValueError extends UserFacingError {
  constructor(
    readonly key: string,
    readonly detail: string,
  ) {
    super(
      `Redis key ${key} holds a value this version cannot read (${detail}): run every app, agent and ccc of the cluster at one version; if it persists, delete the key (\`redis-cli DEL ${key}\`) and let its owner write it again.`,
      { code: "STORED_VALUE_INVALID" },
    );
    this.name = "StoredValueError";
  }
}
