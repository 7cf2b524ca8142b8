/**
 * `ccc doctor | head -3`: once the reader has gone, each write to stdout fails with EPIPE, which
 * Node throws as an unhandled stream error and a stack trace. The output is no longer wanted, so
 * the command finishes without it and keeps its own exit code.
 */
export function ignoreClosedStdout(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}
