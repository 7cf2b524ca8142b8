import type { TaskSecrets } from "../../src/config/task-secret.js";

/**
 * The cluster's `CCC_TASK_SECRET` in tests: test/setup.ts puts it in the environment, so every
 * app, agent and `ccc` process a test starts inherits it; in-process queues get it passed.
 */
export const TEST_TASK_SECRET = "test-task-secret-0123456789abcdef-0123456789abcdef";

export const TEST_TASK_SECRETS: TaskSecrets = [TEST_TASK_SECRET];
