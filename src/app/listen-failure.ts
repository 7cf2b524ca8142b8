import { UserFacingError } from "../shared/user-facing-error.js";

/** The app's port could not be opened: taken by another process, or not allowed to this user. */
export class ListenError extends UserFacingError {
  override readonly name = "ListenError";
  constructor(message: string, cause: unknown) {
    super(message, { code: "listen-failed", cause });
  }
}

/**
 * Node's EADDRINUSE / EACCES from Probot's `listen` becomes one line naming the port and the
 * setting that moves it; any other start-up error is returned as it was.
 */
export function explainListenFailure(error: unknown, settings: { PORT?: string | undefined; HOST?: string | undefined }): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== "EADDRINUSE" && code !== "EACCES") return error;
  const where = `${settings.HOST ?? "localhost"}:${settings.PORT ?? "3000"}`;
  const why = code === "EADDRINUSE" ? "is in use by another process" : "may not be opened by this user";
  return new ListenError(`the app could not listen on ${where}: the port ${why}. Stop the other process, or set PORT (and HOST) to a free one.`, error);
}
