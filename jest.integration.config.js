/** The program's integration tier: the real Pulumi engine against the local platform (scripts/test.sh starts it). */
const base = require("./jest.config.js");

// One file at a time: the files share the platform's API server and Pulumi backend.
module.exports = {
  ...base,
  testMatch: ["**/*.itest.ts"],
  testTimeout: 900000,
  maxWorkers: 1,
};
