#!/usr/bin/env bash
# The whole test suite. Ends with one "N passed, N failed" line.
#   1. type check and lint;
#   2. unit tiers: the program (config, catalogue, sizing, wiring under Pulumi mocks, CRD
#      schemas, outputs contract, render) and the operator (decision core, intake, controller);
#      meanwhile the local platform builds in the background (cached in ~/.cache/streamforge);
#   3. integration tiers on the local platform, in two lanes at once: `pulumi up --stack local`
#      into a real API server and the Rollouts canary under the real controller (lane stack);
#      guards, attacks and the real broker, then the operator as real processes against the
#      real broker and API server (lane platform); then, alone, the chaos drill (three-broker
#      Kafka, Toxiproxy, the real operator).
# The platform this script starts is stopped when it exits.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
mkdir -p out
rm -f out/jest-*.json

# promtool (Debian's Prometheus package, seconds) before the background install: the unit tier
# checks the alert rules with it, and two unpacks of one package must not race.
bash local/prometheus.sh install >out/prometheus-install.log 2>&1 || { cat out/prometheus-install.log >&2; exit 1; }
echo "== building the local platform in the background (log: out/local-install.log)"
bash local/platform.sh install >out/local-install.log 2>&1 &
install_pid=$!
lane_pids=()
stop_all() {
  kill "$install_pid" 2>/dev/null || true
  # Each lane runs in its own process group (set -m below): stop the lane and everything it started.
  local pid
  for pid in "${lane_pids[@]}"; do kill -- "-${pid}" 2>/dev/null || true; done
  bash local/platform.sh down >/dev/null 2>&1 || true
}
trap stop_all EXIT

echo "== type check"
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p operator/tsconfig.json
# Checked above, the program (and its test fixtures) need not be type-checked again by each
# `pulumi` run of the tiers below: ts-node only transpiles (@pulumi/pulumi cmd/run/run.js).
export PULUMI_NODEJS_TRANSPILE_ONLY=true
echo "== lint"
npx eslint .
npx prettier --check . >/dev/null

status=0
echo "== unit: program"
npx jest --ci --json --outputFile=out/jest-infra.json || status=$?
echo "== unit: operator"
(cd operator && NODE_OPTIONS=--experimental-vm-modules npx jest --ci --json --outputFile=../out/jest-operator.json) || status=$?

echo "== local platform"
if ! wait "$install_pid"; then
  tail -n 40 out/local-install.log >&2
  echo "building the local platform failed: see out/local-install.log" >&2
  exit 1
fi
tail -n 3 out/local-install.log
bash local/platform.sh up
eval "$(bash local/platform.sh env)"

# The operator's build: the chaos drill (in the program's tier) and the operator's tier run it.
(cd operator && npm run --silent build)
# The files wait on the API server, controllers and brokers far more than they compute: two
# lanes at once, each one file at a time, then the drill alone (jest.integration.config.js says
# which file runs where; docs/testing.md, "Lanes").
echo "== integration, two lanes at once (logs: out/itest-stack.log, out/itest-platform.log)"
echo "   stack: pulumi up --stack local, previews, the Rollouts canary"
echo "   platform: guards, attacks, the real broker; then the operator against the real broker and API server"
lanes_start=$SECONDS
set -m
(
  rc=0
  STREAMFORGE_ITEST_LANE=stack npx jest -c jest.integration.config.js --ci --json --outputFile=out/jest-deploy-stack.json || rc=$?
  echo "== lane stack took $((SECONDS - lanes_start)) s"
  exit "$rc"
) >out/itest-stack.log 2>&1 &
lane_pids+=($!)
(
  rc=0
  STREAMFORGE_ITEST_LANE=platform npx jest -c jest.integration.config.js --ci --json --outputFile=out/jest-deploy-platform.json || rc=$?
  (cd operator && NODE_OPTIONS=--experimental-vm-modules npx jest -c jest.integration.config.js --ci --json --outputFile=../out/jest-operator-integration.json) || rc=$?
  echo "== lane platform took $((SECONDS - lanes_start)) s"
  exit "$rc"
) >out/itest-platform.log 2>&1 &
lane_pids+=($!)
set +m
for lane in stack platform; do
  wait "${lane_pids[0]}" || status=$?
  lane_pids=("${lane_pids[@]:1}")
  echo "== integration lane ${lane}: its log"
  cat "out/itest-${lane}.log"
done
echo "== integration, alone: the chaos drill"
STREAMFORGE_ITEST_LANE=solo npx jest -c jest.integration.config.js --ci --json --outputFile=out/jest-deploy-solo.json || status=$?

node -e '
  const fs = require("fs");
  const files = ["out/jest-infra.json", "out/jest-operator.json", "out/jest-deploy-stack.json", "out/jest-deploy-platform.json", "out/jest-deploy-solo.json", "out/jest-operator-integration.json"];
  let passed = 0, failed = 0, skipped = 0, total = 0;
  for (const f of files) {
    if (!fs.existsSync(f)) { console.error(`${f} missing: a tier did not run`); failed += 1; continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites; skipped += r.numPendingTests; total += r.numTotalTests;
  }
  console.log(`tests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  if (total === 0 || failed > 0) process.exit(1);
' || status=1
exit "$status"
