#!/usr/bin/env bash
# Set up, then run the embedded demo (SQLite, local storage, filesystem broker).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/nianbao demo "$@"
