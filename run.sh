#!/usr/bin/env bash
# 一键运行：首次运行时创建 .venv 并安装 excel-eval，然后生成报告（参数原样传给 excel-eval run）。
#   ./run.sh                        使用内置示例工作簿（副本放在 output/ 下）
#   ./run.sh 我的工作簿.xlsx -o 报告
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/scripts/ensure-venv.sh"
exec "$here/.venv/bin/excel-eval" run "$@"
