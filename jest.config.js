/** Jest for the infra program. The operator package has its own config. */
module.exports = {
  testEnvironment: "node",
  // Every area's tests, wherever they sit: a new area's folder needs no line here. The operator
  // package runs its own Jest (operator/jest.config.js); the rest are build and state folders.
  roots: ["<rootDir>"],
  testPathIgnorePatterns: [
    "/node_modules/",
    "<rootDir>/operator/",
    "<rootDir>/\\.local/",
    "<rootDir>/\\.toolchain/",
    "<rootDir>/out/",
    "<rootDir>/scratch/",
    "<rootDir>/build/",
  ],
  testMatch: ["**/*.test.ts"],
  transform: {
    // cel-js ships ES modules only: let ts-jest turn them into CommonJS too.
    "^.+\\.[tj]s$": ["ts-jest", { tsconfig: { allowJs: true, isolatedModules: true }, diagnostics: false }],
  },
  // The operator's sources import siblings as `./x.js` (ES modules); here they load as TypeScript.
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transformIgnorePatterns: ["/node_modules/(?!@marcbachmann/cel-js/)"],
  testTimeout: 120000,
  // Two workers, each replaced once it holds more than 1.5 GB after a file: run in band (Jest's
  // choice on two cores) the tier grew to 15 GB resident, and a fresh-clone run beside another
  // Jest was killed for memory. The integration config runs one file at a time (maxWorkers: 1).
  maxWorkers: 2,
  workerIdleMemoryLimit: "1536MB",
};
