#!/usr/bin/env bash
# The program's main job on the embedded default: set up, bring the local platform up (a real
# Kafka broker, a real Kubernetes API server with the upstream CRDs, Prometheus, the Pulumi CLI
# with a local file backend; all on 127.0.0.1), run `pulumi up --stack local` into it and print
# the stack outputs. The platform keeps running afterwards: `npm run local -- down` stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

bash local/platform.sh up
bash local/platform.sh deploy
echo "local platform is running; stop it with: npm run local -- down" >&2
