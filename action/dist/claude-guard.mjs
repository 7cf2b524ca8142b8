#!/usr/bin/env node
// Stands between an agent and the Claude CLI so that Claude never outlives its agent.
//
// The runner starts this script in a new process group (so a cancel or timeout can kill the
// group: this guard, the CLI and every tool the CLI started). The guard starts the CLI in the
// same group and watches its own parent: an agent killed with SIGKILL cannot clean up, so when
// the guard is re-parented (its parent pid changes) it ends the whole group, SIGTERM first and
// SIGKILL after a grace period. Plain JavaScript with no imports beyond Node, so that it starts
// in tens of milliseconds and needs no build step.
//
//   node claude-guard.mjs <claude-bin> [args…]
//
// The guard gets Claude's allowlisted environment (claude-env.ts) and passes it on, less its
// own CCC_GUARD_GRACE_MS; stdin (the prompt) is inherited by the CLI.
//
// Exit status is the CLI's; a CLI that cannot be started exits 127 with one line on stderr,
// `ccc-guard: spawn <code>`, which the runner reports as "binary not found".
import { spawn } from "node:child_process";

const [bin, ...args] = process.argv.slice(2);
const GRACE_MS = Number(process.env.CCC_GUARD_GRACE_MS ?? 2000);
const POLL_MS = 200;
const parent = process.ppid;
let orphaned = false;

// Signals for the group reach the guard too; it stays until the CLI has gone, so the runner
// sees one exit, after the CLI's last line.
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => {});

const { CCC_GUARD_GRACE_MS: _grace, ...childEnv } = process.env;
const child = spawn(bin, args, { stdio: "inherit", env: childEnv });
child.on("error", (error) => {
  process.stderr.write(`ccc-guard: spawn ${error.code ?? "failed"}\n`);
  process.exit(127);
});
// Orphaned, the guard outlives the CLI until the SIGKILL, which also ends the CLI's tools.
child.on("exit", (code, signal) => orphaned || process.exit(code ?? 128 + signalNumber(signal)));

const watch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(watch);
  killGroup();
}, POLL_MS);
watch.unref();

function killGroup() {
  orphaned = true;
  try {
    process.kill(-process.pid, "SIGTERM");
  } catch {
    // The group is already gone.
  }
  setTimeout(() => {
    try {
      process.kill(-process.pid, "SIGKILL");
    } catch {
      // The group is already gone.
    }
  }, GRACE_MS);
}

function signalNumber(signal) {
  const numbers = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 1;
}
