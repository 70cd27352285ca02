#!/usr/bin/env bash
# The program's main job on the embedded default: set up, bring the local platform up (a real
# Kafka broker, a real Kubernetes API server with the upstream CRDs, Prometheus, the Pulumi CLI
# with a local file backend; all on 127.0.0.1), run `pulumi up --stack local` into it and print
# the stack outputs, then start the self-healing operator as its built image against it. The
# platform keeps running afterwards: `npm run local -- down` stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"

bash local/platform.sh up
bash local/platform.sh deploy
# The self-healing operator as its built image (buildah), under podman, watching the stack's apps namespace.
bash local/operator-image.sh run
echo "local platform is running, the operator too; watch it relaunch a silent worker: npm run demo:relaunch" >&2
echo "stop everything with: npm run local -- down" >&2
