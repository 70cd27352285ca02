#!/usr/bin/env bash
# Usage: scripts/tag-stack-environment.sh <stack>
# Sets the stack tag the policy pack reads (streamforge:environment, policy/README.md) to the
# stack's own `streamforge:environment` config. Run it wherever a stack is created, before its
# first preview: without the tag the pack treats the stack as production (fail closed).
set -euo pipefail
stack="${1:?usage: $0 <stack>}"
env="$(pulumi config get streamforge:environment --stack "${stack}")"
case "${env}" in
  local | dev | prod) ;;
  *)
    echo "Pulumi.${stack}.yaml: streamforge:environment: expected local, dev or prod; found \"${env}\"" >&2
    exit 1
    ;;
esac
pulumi stack tag set streamforge:environment "${env}" --stack "${stack}"
