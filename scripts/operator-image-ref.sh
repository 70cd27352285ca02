#!/usr/bin/env bash
# Usage: scripts/operator-image-ref.sh <stack> <image reference>
# Points the stack's self-healing operator at a prebuilt image, in this checkout's stack file only
# (`pulumi config`, never committed): the deploy sets the digest it just built, and a preview the
# one the stack runs (its `operatorImage` output), so the preview is the deploy and builds nothing.
# The build form {registry, repository, tag, username} and {ref} are exclusive
# (infra/self-healing/config.ts): the build form's keys go, and its login stays as the pull login.
set -euo pipefail
stack="${1:?usage: $0 <stack> <image reference>}"
ref="${2:?usage: $0 <stack> <image reference>}"
if [[ ! "$ref" =~ ^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9._-]*)?(@sha256:[a-f0-9]{64})?$ ]]; then
  echo "operator-image-ref: expected an image reference such as ghcr.io/org/name@sha256:<digest>; found '${ref}'" >&2
  exit 2
fi
key="streamforge:operator.image"
get() { pulumi config get --stack "$stack" --path "${key}.$1" 2>/dev/null || true; }
registry="$(get registry)"
username="$(get username)"
# A no-op for a key that is not there.
for k in registry repository tag username; do
  pulumi config rm --stack "$stack" --path "${key}.${k}" >/dev/null 2>&1 || true
done
pulumi config set --stack "$stack" --path "${key}.ref" "$ref"
if [[ -n "$username" ]]; then
  pulumi config set --stack "$stack" --path "${key}.pullCredentials.registry" "$registry"
  pulumi config set --stack "$stack" --path "${key}.pullCredentials.username" "$username"
fi
echo "${key} of ${stack}: $(pulumi config get --stack "$stack" --path "$key")"
