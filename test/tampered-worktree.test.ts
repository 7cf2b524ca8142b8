import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "./helpers/agent-process.js";
import { listBranches } from "./helpers/git-origin.js";
import { enqueueDirect } from "./helpers/tasks.js";
import { useTestbed } from "./helpers/testbed.js";

describe("a Claude run that rewrites the worktree's .git (a prompt-injected Claude)", () => {
  const bed = useTestbed();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ccc-tamper-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs nothing it planted, pushes nothing, and fails the task at once with the reason", async () => {
    const marker = join(dir, "pwned");
    await bed.startAgent({ name: "tampered", env: { FAKE_CLAUDE_SCENARIO: "tamper-git", FAKE_CLAUDE_MARKER: marker } });
    const task = await enqueueDirect(bed.deps, { number: 97, cloneUrl: bed.origin.url });

    const failed = await waitFor(
      "the task to fail",
      async () => {
        const record = await bed.deps.store.get(task.taskId);
        return record?.state === "failed" ? record : undefined;
      },
      30_000,
    );
    expect(failed.failure?.message).toContain("the worktree's .git was changed during the run; nothing was committed or pushed");
    // Not retried: another attempt would run the same prompt.
    expect(failed.attempt).toBe(1);
    expect(existsSync(marker)).toBe(false);
    expect(await listBranches(bed.origin.dir)).not.toContain(task.branch);
  }, 60_000);
});
