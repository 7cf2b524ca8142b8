import { rm } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, resolve } from "node:path";
import type { Logger } from "../../../src/shared/logger.js";
import { git } from "../../../src/workspace/git.js";

/** A credential header the checkout's own config holds, and the file it is written in. */
export interface PersistedCredential {
  key: string;
  file: string;
}

interface ConfigEntry {
  /** Absolute path of the file that sets it. */
  file: string;
  /** Section and name lower-cased by git, subsection as written. */
  key: string;
  value: string;
}

/** `http.extraheader` and `http.<url>.extraheader`: where actions/checkout puts the job's token. */
const HEADER = /^http\.(.+\.)?extraheader$/;
const INCLUDE = /^include(if\..+)?\.path$/;
/** actions/checkout v6 writes the header to `$RUNNER_TEMP/git-credentials-<uuid>.config` and includes it. */
const CHECKOUT_CREDENTIALS_FILE = /git-credentials-[0-9a-f-]+\.config$/i;
/** The checkout's config (and files it includes), not the machine's. */
const CHECKOUT_SCOPES = new Set(["local", "worktree"]);

/**
 * Takes out of the checkout's git config any credential header actions/checkout persisted
 * (a workflow without `persist-credentials: false`), before Claude, whose Read tool can open
 * `.git/config`, starts: the header itself, or the include that pulls in checkout's separate
 * credentials file (which is deleted). Returns what it removed; throws when some remains.
 */
export async function removePersistedCredentials(dir: string, log: Logger): Promise<PersistedCredential[]> {
  const entries = await readCheckoutConfig(dir, log);
  const headers = entries.filter((entry) => HEADER.test(entry.key));
  const includes = entries.filter((entry) => INCLUDE.test(entry.key));
  for (const header of headers) {
    const includers = includes.filter((include) => includedFile(include) === header.file);
    if (includers.length === 0) {
      await git(["config", "--file", header.file, "--unset-all", header.key], { cwd: dir, log });
      continue;
    }
    for (const include of includers) {
      await git(["config", "--file", include.file, "--fixed-value", "--unset-all", include.key, include.value], { cwd: dir, log });
    }
    if (CHECKOUT_CREDENTIALS_FILE.test(header.file)) await rm(header.file, { force: true });
  }
  const left = (await readCheckoutConfig(dir, log)).filter((entry) => HEADER.test(entry.key));
  if (left.length > 0) {
    throw new Error(
      `the checkout's git config still holds a credential header (${left.map((entry) => `${entry.key} in ${entry.file}`).join(", ")}); ` +
        "Claude was not started. Set `persist-credentials: false` on the actions/checkout step.",
    );
  }
  return [...new Map(headers.map((header) => [`${header.file}\0${header.key}`, { key: header.key, file: header.file }])).values()];
}

/** The file an `include.path` / `includeIf.<condition>.path` entry names, as git resolves it. */
function includedFile(include: ConfigEntry): string {
  const path = include.value.startsWith("~/") ? resolve(homedir(), include.value.slice(2)) : include.value;
  return resolve(dirname(include.file), path);
}

/** Entries of the checkout's own config files, includes followed (`git config` reads files only; it runs nothing). */
async function readCheckoutConfig(dir: string, log: Logger): Promise<ConfigEntry[]> {
  const listed = await git(["config", "--list", "--show-scope", "--show-origin", "-z"], { cwd: dir, log });
  const fields = listed.split("\0");
  const entries: ConfigEntry[] = [];
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const [scope, origin, keyValue] = [fields[i]!, fields[i + 1]!, fields[i + 2]!];
    if (!CHECKOUT_SCOPES.has(scope) || !origin.startsWith("file:")) continue;
    const newline = keyValue.indexOf("\n");
    entries.push({
      file: resolve(dir, origin.slice("file:".length)),
      key: newline === -1 ? keyValue : keyValue.slice(0, newline),
      value: newline === -1 ? "" : keyValue.slice(newline + 1),
    });
  }
  return entries;
}
