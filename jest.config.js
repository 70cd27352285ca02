/** Jest for the infra program. The operator package has its own config. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test", "<rootDir>/rollouts", "<rootDir>/chaos", "<rootDir>/policy", "<rootDir>/observability"],
  testMatch: ["**/*.test.ts"],
  transform: {
    // cel-js ships ES modules only: let ts-jest turn them into CommonJS too.
    "^.+\\.[tj]s$": ["ts-jest", { tsconfig: { allowJs: true, isolatedModules: true }, diagnostics: false }],
  },
  // The operator's sources import siblings as `./x.js` (ES modules); here they load as TypeScript.
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transformIgnorePatterns: ["/node_modules/(?!@marcbachmann/cel-js/)"],
  testTimeout: 120000,
};
