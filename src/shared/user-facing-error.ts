/** What a user-meant error carries besides its message. */
export interface UserFacingErrorOptions {
  /** Stable, for scripts and tests: `config-invalid`, `redis-unavailable`, … */
  code: string;
  /** What to do, when the message does not already say it. Printed after the message. */
  hint?: string;
  /**
   * How `ccc` exits on it: 1 failed (the default), 2 bad usage.
   * @defaultValue 1
   */
  exitCode?: 1 | 2;
  cause?: unknown;
}

/**
 * An expected failure whose message is meant for the user and names the fix: a wrong
 * setting, an unreachable Redis, a missing secret. Every entry point (`ccc`, the app's
 * start, the Action) prints such an error as one line without a stack; anything else that
 * reaches the top is a bug and keeps its stack.
 */
export class UserFacingError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: 1 | 2;

  constructor(message: string, options: UserFacingErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // Subclasses set their own `name`: a bundler may rename classes.
    this.name = "UserFacingError";
    this.code = options.code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }

  /** The message and the hint, as a user reads it. */
  get userMessage(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }
}
