/** The program's integration tier: the real Pulumi engine against the local platform (scripts/test.sh starts it). */
const fs = require("fs");
const path = require("path");
const base = require("./jest.config.js");

/**
 * The tier falls in three lanes, each run one file at a time (docs/testing.md, "Lanes"). The
 * `stack` and `platform` lanes run at once. The `stack` lane holds every file that deploys or previews the shared `local` stack
 * (an `up` takes the stack's lock and rewrites the state a preview reads), plus files of their
 * own stacks and namespaces for balance; the `platform` lane holds the rest, among them every file
 * that uses the shared brokers and Prometheus. A new file lands in `platform`, sequenced with them.
 * The `solo` lane runs after both, alone: the chaos drill, whose steady state (three brokers of its
 * own, workers, the operator consuming) did not always come within its window beside the other lanes.
 */
const STACK_LANE = [
  "test/integration/local-deploy",
  "test/integration/consumer",
  "test/integration/preview-identity",
  "test/integration/preview",
  "test/integration/policy-enforce",
  "infra/kafka/test/data-safety",
  "rollouts/test/canary",
  "rollouts/test/runbook",
];

const SOLO_LANE = ["chaos/test/drill"];

for (const [list, files] of Object.entries({ STACK_LANE, SOLO_LANE }))
  for (const f of files)
    if (!fs.existsSync(path.join(__dirname, `${f}.itest.ts`)))
      throw new Error(`jest.integration.config.js: ${list} names ${f}.itest.ts, which does not exist`);

const lane = process.env.STREAMFORGE_ITEST_LANE;
if (lane !== undefined && !["stack", "platform", "solo"].includes(lane))
  throw new Error(`STREAMFORGE_ITEST_LANE is "${lane}": expected "stack", "platform", "solo" or unset (every file)`);
const only = (files) => ({ testMatch: files.map((f) => `<rootDir>/${f}.itest.ts`) });

module.exports = {
  ...base,
  testMatch: ["**/*.itest.ts"],
  ...(lane === "stack" && only(STACK_LANE)),
  ...(lane === "solo" && only(SOLO_LANE)),
  ...(lane === "platform" && {
    testPathIgnorePatterns: [...base.testPathIgnorePatterns, ...[...STACK_LANE, ...SOLO_LANE].map((f) => `<rootDir>/${f}\\.itest\\.ts$`)],
  }),
  testTimeout: 900000,
  // One file at a time within a lane: the files share the platform's API server and Pulumi backend.
  maxWorkers: 1,
};
