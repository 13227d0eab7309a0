#!/usr/bin/env bash
# 开发者测试：与 run.sh 相同的安装（外加测试依赖），然后运行 pytest（参数原样传给 pytest）。
set -euo pipefail
cd "$(dirname "$0")"
scripts/ensure-venv.sh test
exec .venv/bin/python -m pytest "$@"
