import { redactSecrets } from "../shared/redact.js";
import { UserFacingError } from "../shared/user-facing-error.js";

/** Where the agent's git setup is explained; named in every credential-related message. */
const CREDENTIALS_DOC = "docs/configuration.md";

export type GitErrorCode =
  | "git-missing"
  | "clone-failed"
  | "fetch-failed"
  | "invalid-ref"
  | "invalid-path"
  | "base-branch-missing"
  | "worktree-failed"
  | "remove-failed"
  | "worktree-tampered"
  | "merge-failed"
  | "git-failed";

/** A git operation the workspace could not do. `code` is stable; the message names the fix. */
export class GitError extends UserFacingError {
  override readonly name = "GitError";
  declare readonly code: GitErrorCode;
  constructor(
    code: GitErrorCode,
    message: string,
    /** git's stderr with secrets redacted, for logs and the tracking comment. */
    readonly stderr = "",
  ) {
    super(message, { code });
  }

  /** Not retryable: the run's work can no longer be trusted, and another attempt would run the same prompt. */
  static worktreeTampered(dir: string, why: string): GitError {
    return new GitError("worktree-tampered", `the worktree's .git was changed during the run; nothing was committed or pushed (${why}; worktree ${dir})`);
  }

  /** False when another attempt must not be made (the agent's task runner reads it). */
  get retryable(): boolean {
    return this.code !== "worktree-tampered";
  }

  static cloneFailed(url: string, stderr: string): GitError {
    return GitError.network("clone-failed", "clone", url, stderr);
  }

  static fetchFailed(url: string, stderr: string): GitError {
    return GitError.network("fetch-failed", "fetch", url, stderr);
  }

  private static network(code: GitErrorCode, verb: string, url: string, stderr: string): GitError {
    const clean = redactSecrets(stderr);
    const reason = firstErrorLine(clean);
    return new GitError(
      code,
      `could not ${verb} ${redactSecrets(url)}: check this machine's git credentials (see ${CREDENTIALS_DOC})` + (reason ? `; git said: ${reason}` : ""),
      clean,
    );
  }
}

/** `git push` was refused (non-fast-forward, protected branch, no permission, network). */
export class PushError extends UserFacingError {
  override readonly name = "PushError";
  declare readonly code: "push-rejected";
  constructor(
    readonly branch: string,
    /** git's stderr with secrets redacted. */
    readonly stderr: string,
  ) {
    const reason = firstErrorLine(stderr);
    super(`could not push ${branch}` + (reason ? `: ${reason}` : "") + ` (if this is a credentials problem, see ${CREDENTIALS_DOC})`, {
      code: "push-rejected",
    });
  }
}

/** The line of git's stderr that says what went wrong, without the `fatal: ` prefix. */
function firstErrorLine(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const line = lines.find((l) => /^(fatal|error|remote|! \[)/.test(l)) ?? lines[0] ?? "";
  return line.replace(/^(fatal|error):\s*/, "");
}
