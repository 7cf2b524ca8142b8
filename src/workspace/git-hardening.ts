import { execa } from "execa";

/**
 * Config that makes git run a program, neutralised on every git command the agent runs.
 *
 * Claude writes in the worktree, and through `git config` (or a rewritten `.git`) in the
 * repository's config; that config must not make the agent's own git run anything. Values from
 * the machine's config (system, global, `-c` in the agent's environment) are kept: the owner's
 * credential helper, ssh command and signing program still work. `-c` on the command line and
 * GIT_CONFIG_COUNT in the environment win over every config file and reach child gits.
 */
export const FIXED_HARDENING: readonly string[] = [
  // A pager never runs (stdout is a pipe anyway), nor does `core.pager` / `pager.<cmd>`.
  "--no-pager",
  // Hooks (the mirror's hooks/ or a core.hooksPath anyone set) and fsmonitor run on status/add/commit/push.
  ...["-c", "core.hooksPath=/dev/null"],
  ...["-c", "core.fsmonitor=false"],
  // `ext::<command>` remotes run a shell command; a remote or insteadOf could name one.
  ...["-c", "protocol.ext.allow=never"],
  // git:// runs `core.gitProxy`, whose first value wins over `-c`; GitHub does not serve git:// anyway.
  ...["-c", "protocol.git.allow=never"],
  // A submodule's own config (written by Claude, in the worktree) would apply to a git run inside it.
  ...["-c", "diff.ignoreSubmodules=all"],
  ...["-c", "submodule.recurse=false"],
  ...["-c", "push.recurseSubmodules=no"],
];

/**
 * `remote.<name>.receivepack` / `uploadpack` name the command git runs for a local or file://
 * remote (through the shell), and the first value wins over `-c`; push and fetch pass these.
 */
export const PUSH_PROGRAM = "--receive-pack=git-receive-pack";
export const FETCH_PROGRAM = "--upload-pack=git-upload-pack";

/** The environment every git command gets: no prompt, no editor, no pager. */
export const HARDENED_ENV = { GIT_TERMINAL_PROMPT: "0", GIT_EDITOR: ":", GIT_PAGER: "cat" } as const;

/**
 * A key the repository's config must not decide. Instead of its value the machine's own one
 * is used (a git-lfs filter, a signing program, an ssh command), or else a neutral one.
 */
interface Rule {
  pattern: RegExp;
  /** The neutral value for `key`; extra `-c` pairs (e.g. `filter.<d>.required=false`) may follow. */
  neutral: (key: string, match: RegExpMatchArray) => Array<[string, string]>;
}

const RULES: readonly Rule[] = [
  // `filter.<driver>.clean` runs on `git add` and `git status`, `smudge` on checkout: an empty
  // command means "no filter", and `required=false` keeps git from failing over it.
  {
    pattern: /^filter\.(.+)\.(clean|smudge|process)$/,
    neutral: (key, m) => [
      [key, ""],
      [`filter.${m[1]!}.required`, "false"],
    ],
  },
  { pattern: /^diff\.(.+)\.(command|textconv)$|^diff\.external$|^merge\.(.+)\.driver$/, neutral: (key) => [[key, ""]] },
  { pattern: /^core\.sshcommand$/, neutral: (key) => [[key, "ssh"]] },
  { pattern: /^core\.askpass$|^gpg\.ssh\.defaultkeycommand$/, neutral: (key) => [[key, ""]] },
  // Signing with the owner's key is the owner's choice, made in the machine's config.
  { pattern: /^commit\.gpgsign$|^push\.gpgsign$|^tag\.gpgsign$/, neutral: (key) => [[key, "false"]] },
  { pattern: /^gpg\.program$|^gpg\.openpgp\.program$/, neutral: (key) => [[key, "gpg"]] },
  { pattern: /^gpg\.x509\.program$/, neutral: (key) => [[key, "gpgsm"]] },
  { pattern: /^gpg\.ssh\.program$/, neutral: (key) => [[key, "ssh-keygen"]] },
];

const CREDENTIAL_HELPER = /^credential\.(.+\.)?helper$/;
const TRUSTED_SCOPES = new Set(["system", "global", "command"]);

interface ConfigEntry {
  scope: string;
  /** Lower-cased section and name, subsection as written (git's own spelling). */
  key: string;
  value: string;
}

/** One config entry the agent sets for a single git command, like `-c key=value`. */
export type ConfigPair = readonly [key: string, value: string];

/**
 * Pairs that override whatever the repository's and the worktree's config set among the keys
 * above, read from the config git would use in `cwd`. `git config --list` itself reads files
 * only; it runs nothing.
 */
export async function untrustedOverrides(cwd: string | undefined): Promise<ConfigPair[]> {
  const entries = await readConfig(cwd);
  const untrusted = entries.filter((entry) => !TRUSTED_SCOPES.has(entry.scope));
  if (untrusted.length === 0) return [];
  const trusted = entries.filter((entry) => TRUSTED_SCOPES.has(entry.scope));
  const pinned = new Map<string, string>();
  for (const { key } of untrusted) {
    for (const rule of RULES) {
      const match = key.match(rule.pattern);
      if (!match) continue;
      const own = trusted.filter((entry) => entry.key === key).at(-1);
      if (own) pinned.set(key, own.value);
      else for (const [k, v] of rule.neutral(key, match)) pinned.set(k, v);
    }
  }
  const pairs: ConfigPair[] = [...pinned];
  if (untrusted.some((entry) => CREDENTIAL_HELPER.test(entry.key))) {
    // Helpers add up; an empty value clears the list so far. Clear it after every file, then
    // add the machine's own helpers back in their order (`store`, a keychain, `gh`).
    pairs.push(["credential.helper", ""]);
    for (const entry of trusted) if (CREDENTIAL_HELPER.test(entry.key)) pairs.push([entry.key, entry.value]);
  }
  return pairs;
}

/**
 * `pairs` as GIT_CONFIG_COUNT / GIT_CONFIG_KEY_<n> / GIT_CONFIG_VALUE_<n>, after any the agent's
 * own environment has. Not `-c key=value`: git splits that at the first `=`, and a subsection
 * may hold one (`[filter "a=b"]`), which would turn the override into another key.
 */
export function configEnv(pairs: readonly ConfigPair[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (pairs.length === 0) return {};
  const first = Number(env.GIT_CONFIG_COUNT ?? 0) || 0;
  const vars: Record<string, string> = { GIT_CONFIG_COUNT: String(first + pairs.length) };
  pairs.forEach(([key, value], i) => {
    vars[`GIT_CONFIG_KEY_${first + i}`] = key;
    vars[`GIT_CONFIG_VALUE_${first + i}`] = value;
  });
  return vars;
}

async function readConfig(cwd: string | undefined): Promise<ConfigEntry[]> {
  const result = await execa("git", ["--no-pager", "config", "--list", "--show-scope", "-z"], {
    cwd,
    env: HARDENED_ENV,
    stdin: "ignore",
    reject: false,
  });
  // No repository here (a clone) or no config at all: nothing untrusted to override.
  if (result.exitCode !== 0) return [];
  const fields = result.stdout.split("\0");
  const entries: ConfigEntry[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [scope, keyValue] = [fields[i]!, fields[i + 1]!];
    const newline = keyValue.indexOf("\n");
    const key = newline === -1 ? keyValue : keyValue.slice(0, newline);
    entries.push({ scope, key, value: newline === -1 ? "" : keyValue.slice(newline + 1) });
  }
  return entries;
}
