/** Jest in ESM mode: @kubernetes/client-node ships ES modules only. */
export default {
  testEnvironment: "node",
  roots: ["<rootDir>/test", "<rootDir>/testkit"],
  testMatch: ["**/*.test.ts"],
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: { "^.+\\.ts$": ["ts-jest", { useESM: true, diagnostics: false }] },
  testTimeout: 180000,
};
