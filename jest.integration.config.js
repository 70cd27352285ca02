/** The program's integration tier: the real Pulumi engine against the local platform (scripts/test.sh starts it). */
const fs = require("fs");
const path = require("path");
const base = require("./jest.config.js");

/**
 * The tier falls in two lanes, each run one file at a time, built to run at once (docs/testing.md,
 * "Lanes"; the test command runs them one after the other for now). The `stack` lane holds every file that deploys or previews the shared `local` stack
 * (an `up` takes the stack's lock and rewrites the state a preview reads), plus files of their
 * own stacks and namespaces for balance; the `platform` lane holds the rest, among them every file
 * that uses the shared brokers and Prometheus. A new file lands in `platform`, sequenced with them.
 */
const STACK_LANE = [
  "test/integration/local-deploy",
  "test/integration/consumer",
  "test/integration/preview-identity",
  "test/integration/preview",
  "test/integration/policy-enforce",
  "test/integration/data-safety",
  "test/integration/cluster-target",
  "rollouts/test/canary",
  "rollouts/test/runbook",
  "rollouts/test/controller-rbac",
];

for (const f of STACK_LANE)
  if (!fs.existsSync(path.join(__dirname, `${f}.itest.ts`)))
    throw new Error(`jest.integration.config.js: STACK_LANE names ${f}.itest.ts, which does not exist`);

const lane = process.env.STREAMFORGE_ITEST_LANE;
if (lane !== undefined && lane !== "stack" && lane !== "platform")
  throw new Error(`STREAMFORGE_ITEST_LANE is "${lane}": expected "stack", "platform" or unset (every file)`);

module.exports = {
  ...base,
  testMatch: ["**/*.itest.ts"],
  ...(lane === "stack" && { testMatch: STACK_LANE.map((f) => `<rootDir>/${f}.itest.ts`) }),
  ...(lane === "platform" && {
    testPathIgnorePatterns: [...base.testPathIgnorePatterns, ...STACK_LANE.map((f) => `<rootDir>/${f}\\.itest\\.ts$`)],
  }),
  testTimeout: 900000,
  // One file at a time within a lane: the files share the platform's API server and Pulumi backend.
  maxWorkers: 1,
};
