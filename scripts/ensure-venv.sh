#!/usr/bin/env bash
# Creates .venv on first use and (re)installs excel-eval into it when pyproject.toml changed.
# Usage: scripts/ensure-venv.sh [EXTRAS]   e.g. scripts/ensure-venv.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
extras="${1:-}"
stamp=".venv/.installed${extras:+-$extras}"
if [ -f "$stamp" ] && [ ! pyproject.toml -nt "$stamp" ]; then
  exit 0
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "需要 Python 3.11 或更高版本（当前：$("$PYTHON" --version 2>&1)）。请从 https://www.python.org/downloads/ 安装。" >&2
  exit 2
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
echo "正在安装 excel-eval 及其依赖（仅首次运行需要）……" >&2
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
touch "$stamp"
