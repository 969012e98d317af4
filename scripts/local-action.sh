#!/usr/bin/env bash
# `npm run local-action [dotenv]`: runs src/main.ts (TypeScript, not dist/) under
# @github/local-action with the inputs in the dotenv file (default .env; see .env.example).
# Node reads NODE_EXTRA_CA_CERTS only at start-up, too early for local-action's own dotenv
# loading, so it is exported from the file here (to trust the emulator's certificate).
set -euo pipefail
cd "$(dirname "$0")/.."
env_file="${1:-.env}"
if [ ! -f "$env_file" ]; then
  echo "No $env_file: cp .env.example .env, then edit it (see CONTRIBUTING.md)" >&2
  exit 1
fi
ca=$(sed -n 's/^[[:space:]]*NODE_EXTRA_CA_CERTS[[:space:]]*=[[:space:]]*//p' "$env_file" | tail -n 1 | tr -d "\"'")
if [ -n "$ca" ]; then
  if [ -f "$ca" ]; then
    export NODE_EXTRA_CA_CERTS="$ca"
  else
    echo "NODE_EXTRA_CA_CERTS=$ca in $env_file does not exist yet: start the emulator first" >&2
  fi
fi
exec npx local-action run . src/main.ts "$env_file"
