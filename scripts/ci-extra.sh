#!/usr/bin/env bash
# Extra CI checks, run by .ci/run and .github/workflows/ci.yml: the README matches action.yml and
# the example workflows, every workflow passes actionlint, and a Chromium is there for the job
# summary screenshot test (which fails under CI=true without one).
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent docs:check
npm run --silent actionlint

# Fresh CI machines have no browser. GitHub's runners have Google Chrome (CHROMIUM_PATH says
# where); elsewhere install Debian's chromium, once.
if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "${CHROMIUM_PATH}" ]; then
  echo "Browser for the summary test: ${CHROMIUM_PATH}"
elif command -v chromium >/dev/null 2>&1; then
  echo "Browser for the summary test: $(command -v chromium)"
else
  echo "Installing chromium for the summary screenshot test"
  sudo=''
  if [ "$(id -u)" != 0 ]; then sudo='sudo'; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
