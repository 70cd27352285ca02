#!/usr/bin/env bash
# The program's main job on the embedded default: render the dev stack offline (no cluster,
# no Pulumi CLI, no network) into out/dev and print its stack outputs.
# (Once the local platform lands, this brings it up and runs `pulumi up --stack local`.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

stack="${1:-dev}"
npm run --silent render -- --stack "$stack" --out "out/$stack"
echo "== stack outputs ($stack)"
cat "out/$stack/outputs.json"
