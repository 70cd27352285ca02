/** The integration tier: a real broker and a real API server (`npm run local -- up`), the operator as a real process. */
import base from "./jest.config.js";

export default { ...base, roots: ["<rootDir>/test/integration"], testMatch: ["**/*.itest.ts"], testTimeout: 300000, maxWorkers: 1 };
