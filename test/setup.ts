import nock from "nock";
import { afterEach, beforeAll } from "vitest";
import { TEST_TASK_SECRET } from "./helpers/task-secret.js";

// Tasks are signed: every app, agent and `ccc` process a test starts inherits the cluster's secret.
process.env.CCC_TASK_SECRET = TEST_TASK_SECRET;

// No test talks to the internet; loopback stays open for Redis and the app's own HTTP server.
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/);
});

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  if (pending.length > 0) {
    throw new Error(`unused GitHub mocks: ${pending.join(", ")}`);
  }
});
