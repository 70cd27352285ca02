#!/usr/bin/env bash
# The whole test suite: type check, lint, then every Jest test of the program and of the
# operator. Ends with one "N passed, N failed" line.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

echo "== type check"
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p operator/tsconfig.json
echo "== lint"
npx eslint .
npx prettier --check . >/dev/null
mkdir -p out
status=0
echo "== tests: infra (config, catalogue, sizing, wiring under Pulumi mocks, CRD schemas, outputs contract, render)"
npx jest --ci --json --outputFile=out/jest-infra.json || status=$?
echo "== tests: operator (decision core, intake, controller, settings)"
(cd operator && NODE_OPTIONS=--experimental-vm-modules npx jest --ci --json --outputFile=../out/jest-operator.json) || status=$?
node -e '
  const files = ["out/jest-infra.json", "out/jest-operator.json"];
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0, total = 0;
  for (const f of files) {
    if (!fs.existsSync(f)) { console.error(`${f} missing: a suite did not run`); process.exit(1); }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites; skipped += r.numPendingTests; total += r.numTotalTests;
  }
  console.log(`tests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  if (total === 0) { console.error("no test ran"); process.exit(1); }
'
exit "$status"
