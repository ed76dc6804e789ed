#!/usr/bin/env bash
# The whole test suite. Needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432
# (trust auth, database `test`); the S3 server (moto) is started by the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check shared services tests bench
set +e
# Two test processes (pytest-xdist), a test file each at a time: most of the suite waits on
# servers and subprocesses, so two share the machine's two cores well; module fixtures
# (one stack per file) stay whole.
.venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile "$@"
status=$?
set -e
if [ $status -eq 5 ]; then
  echo "no tests were collected: failing" >&2
  exit 1
fi
exit $status
