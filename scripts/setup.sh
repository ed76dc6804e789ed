#!/usr/bin/env bash
# Set up a fresh machine: system packages (LibreOffice for DOC/WPS/PDF conversions,
# Chromium for browser tests, CJK fonts), then a virtualenv with the project.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v soffice >/dev/null || need_apt+=(libreoffice-writer-nogui libreoffice-calc-nogui)
command -v chromium >/dev/null || need_apt+=(chromium chromium-driver)
command -v pdftoppm >/dev/null || need_apt+=(poppler-utils)
command -v tesseract >/dev/null || need_apt+=(tesseract-ocr tesseract-ocr-chi-sim)
[ -n "$(ls /usr/share/tesseract-ocr/*/tessdata/chi_sim.traineddata 2>/dev/null)" ] || need_apt+=(tesseract-ocr-chi-sim)
[ -d /usr/share/fonts/opentype/noto ] || need_apt+=(fonts-noto-cjk)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v npm >/dev/null || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing system packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "warning: missing system packages (${need_apt[*]}); run as root or install them for DOC/WPS parsing and browser tests" >&2
  fi
fi

# s3rver (npm, MIT): an S3 server that keeps its data in a directory, for the fault suite's
# "S3 server stopped and started again" (moto's server forgets everything on a restart).
if command -v npm >/dev/null && [ ! -x .tools/node_modules/.bin/s3rver ]; then
  npm install --prefix .tools --no-audit --no-fund --silent s3rver@3.7.1 >/dev/null ||
    echo "warning: s3rver not installed; the fault suite's storage scenarios will skip" >&2
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
