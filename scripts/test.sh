#!/usr/bin/env bash
# The whole test suite: type check, lint, then every Jest test (config, catalogue, sizing,
# component wiring under Pulumi mocks, schema validation against the upstream CRDs, the
# outputs contract, the render command). Ends with one "N passed, N failed" line.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

echo "== type check"
npx tsc --noEmit -p tsconfig.json
echo "== lint"
npx eslint .
npx prettier --check . >/dev/null
echo "== tests"
mkdir -p out
status=0
npx jest --ci --json --outputFile=out/jest-results.json || status=$?
node -e '
  const r = require("./out/jest-results.json");
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
'
exit "$status"
