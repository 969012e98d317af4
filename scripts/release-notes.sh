#!/usr/bin/env bash
# Prints the CHANGELOG.md section of a version (the lines under `## [x.y.z]`, up to the next
# `## ` heading), the notes of its GitHub release. Fails when the section is missing or empty.
#   bash scripts/release-notes.sh 1.2.3
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:?usage: scripts/release-notes.sh x.y.z}"
notes="$(awk -v heading="## [${version}]" '
  index($0, heading) == 1 { found = 1; next }
  found && /^## / { exit }
  found && /^\[[^]]+\]: / { exit }
  found { print }
' CHANGELOG.md | sed -e '/./,$!d')"
if [ -z "$(echo "$notes" | tr -d '[:space:]')" ]; then
  echo "CHANGELOG.md has no section '## [${version}]' with notes: add it before tagging v${version}" >&2
  exit 1
fi
printf '%s\n' "$notes"
