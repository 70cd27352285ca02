/** The program's integration tier: the real Pulumi engine against the local platform (scripts/test.sh starts it). */
const base = require("./jest.config.js");

module.exports = { ...base, roots: ["<rootDir>/test/integration"], testMatch: ["**/*.itest.ts"], testTimeout: 900000 };
