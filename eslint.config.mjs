// ESLint flat config: typescript-eslint with type information, Pulumi's Output rules.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "**/node_modules/", "build/", "**/dist/", "out/", "**/dist-bench/", ".toolchain/", ".local/", "scratch/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // Tests poke at rendered objects whose shape is the point of the assertion.
    files: ["test/**/*.ts", "**/test/**/*.ts", "operator/testkit/*.test.ts", "operator/bench/**/*.ts"],
    rules: {
      // Fakes implement async ports without awaiting anything.
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  { files: ["**/*.js", "**/*.mjs", "**/*.cjs"], ...tseslint.configs.disableTypeChecked },
  // Jest configs are CommonJS at the root.
  { files: ["*.config.js"], rules: { "@typescript-eslint/no-require-imports": "off" } },
  {
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: { globals: { module: "writable", require: "readonly", __dirname: "readonly", process: "readonly" } },
  },
);
