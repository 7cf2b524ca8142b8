import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { FAKE_CLAUDE } from "./agent-process.js";
import { createOrigin, type Origin } from "./git-origin.js";

export const JOB_OWNER = "octo-org";
export const JOB_REPO = "hello";
export const RUN_ID = "7001";
export const RUN_URL = `https://github.com/${JOB_OWNER}/${JOB_REPO}/actions/runs/${RUN_ID}`;

export interface ActionJob {
  origin: Origin;
  /** The job's checkout: a clone of the origin, as actions/checkout leaves it. */
  checkout: string;
  /** The environment the runner gives the action's process. */
  env: Record<string, string>;
  outputs(): Promise<Record<string, string>>;
  cleanup(): Promise<void>;
}

/**
 * A workflow job's surroundings: a real origin, its clone as the checkout, and the variables
 * the Actions runner sets, inputs included (`INPUT_<NAME>`, upper-cased, dashes kept).
 */
export async function createActionJob(inputs: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<ActionJob> {
  const origin = await createOrigin();
  const tmp = await mkdtemp(join(tmpdir(), "ccc-job-"));
  const checkout = join(tmp, "checkout");
  await execa("git", ["clone", "--quiet", origin.url, checkout]);
  const outputFile = join(tmp, "github-output");
  await writeFile(outputFile, "");
  const env: Record<string, string> = {
    GITHUB_REPOSITORY: `${JOB_OWNER}/${JOB_REPO}`,
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_API_URL: "https://api.github.com",
    GITHUB_RUN_ID: RUN_ID,
    GITHUB_WORKSPACE: checkout,
    GITHUB_OUTPUT: outputFile,
    RUNNER_NAME: "pc-2",
    CLAUDE_BIN: FAKE_CLAUDE,
    CCC_CLAUDE_ENV_PASS: "FAKE_CLAUDE_*",
    LOG_LEVEL: "silent",
    ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, "_").toUpperCase()}`, value])),
    ...extraEnv,
  };
  return {
    origin,
    checkout,
    env,
    outputs: async () => parseOutputs(await readFile(outputFile, "utf8")),
    cleanup: async () => {
      await origin.cleanup();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** `name<<delimiter\nvalue\ndelimiter` blocks, as @actions/core writes them to GITHUB_OUTPUT. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const pattern = /^(.+?)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const match of text.matchAll(pattern)) outputs[match[1]!] = match[3]!;
  return outputs;
}
