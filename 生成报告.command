#!/usr/bin/env bash
# 生成报告（macOS）：在“访达”中双击运行（首次运行如被系统拦截：右键点本文件，选“打开”）。
#
# 工作簿依次取：
#   1. 命令行参数 $1（在“终端”中：把本文件和工作簿先后拖进窗口，回车）；
#   2. 本文件夹中唯一的 .xlsx/.xlsm（Excel 的临时文件 ~$*.xlsx 除外）；
#   3. 有多个时按编号选择；一个也没有时，提示把工作簿拖进窗口。
# 报告保存在本文件夹的 output/<工作簿名>/ 中，完成后自动打开该文件夹。
# 工作簿旁边或本文件夹中名为“模板”的文件夹（修改过的模板）会被自动使用。
#
# 首次运行在本文件夹中创建 .venv 并安装 excel-eval（需要 Python 3.11 或更高版本）；
# 有 wheels/ 文件夹时从中离线安装（见 docs/离线安装.md），否则从网络安装。
#
# 供测试和 IT 管理员使用的环境变量：
#   EXCEL_EVAL_PYTHON=/路径/python   使用这个已装好 excel-eval 依赖的 Python，不创建 .venv、不安装
#   EXCEL_EVAL_OPEN=命令             用这个命令打开输出文件夹（默认：macOS 上用 open，其他系统不打开）
set -u

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here" || exit 1

finish() {
  echo
  read -n 1 -s -r -p "按任意键关闭……" || true
  echo
  exit "$1"
}

if [ ! -f "$here/pyproject.toml" ] || [ ! -d "$here/excel_eval" ]; then
  echo "在“$here”中找不到程序文件。请先把压缩包完整解压，再双击解压后文件夹中的“生成报告.command”。"
  finish 2
fi

# ---------------------------------------------------------------------------------------------------------
# 1. 选择工作簿

book=""
if [ $# -ge 1 ] && [ -n "$1" ]; then
  book="$1"
else
  candidates=()
  shopt -s nullglob nocaseglob
  for f in "$here"/*.xlsx "$here"/*.xlsm; do
    case "$(basename "$f")" in
      '~$'* | .*) continue ;;  # Excel/WPS 的临时文件、macOS 的 ._ 文件
    esac
    candidates+=("$(basename "$f")")
  done
  shopt -u nullglob nocaseglob

  if [ ${#candidates[@]} -eq 1 ]; then
    book="$here/${candidates[0]}"
  elif [ ${#candidates[@]} -gt 1 ]; then
    echo "文件夹中有多个工作簿："
    PS3="请输入要生成报告的工作簿编号，然后按回车："
    select choice in "${candidates[@]}"; do
      if [ -n "$choice" ]; then
        book="$here/$choice"
        break
      fi
      echo "没有编号“$REPLY”，请重新输入。"
    done
  else
    echo "本文件夹中没有工作簿（.xlsx）。"
    echo "请把工作簿文件拖到这个窗口中，然后按回车："
    IFS= read -r dropped || dropped=""
    # “终端”粘贴的路径：空格前带反斜杠，末尾有空格，有时带引号。
    dropped="$(printf '%s' "$dropped" | sed -e 's/[[:space:]]*$//' -e "s/^'\(.*\)'\$/\1/" -e 's/^"\(.*\)"$/\1/' \
      -e 's/\\\(.\)/\1/g')"
    book="$dropped"
  fi
fi

if [ -z "$book" ]; then
  echo "没有选择工作簿，未生成报告。"
  finish 2
fi
if [ ! -f "$book" ]; then
  echo "找不到工作簿：$book"
  echo "请检查文件名和所在文件夹。"
  finish 2
fi
book="$(cd "$(dirname "$book")" && pwd)/$(basename "$book")"
name="$(basename "$book")"
out="$here/output/${name%.*}"

# ---------------------------------------------------------------------------------------------------------
# 2. Python 与 excel-eval（首次运行时安装）

find_python() {
  local candidate
  for candidate in python3.14 python3.13 python3.12 python3.11 \
    /Library/Frameworks/Python.framework/Versions/Current/bin/python3 \
    /opt/homebrew/bin/python3 /usr/local/bin/python3 python3; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    # 没有装命令行开发工具时，/usr/bin/python3 只是一个会弹出安装对话框的占位程序。
    if [ "$(command -v "$candidate")" = /usr/bin/python3 ] && [ "$(uname -s)" = Darwin ] \
      && ! xcode-select -p >/dev/null 2>&1; then
      continue
    fi
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if [ -n "${EXCEL_EVAL_PYTHON:-}" ]; then
  py="$EXCEL_EVAL_PYTHON"
else
  venv="$here/.venv"
  py="$venv/bin/python"
  stamp="$venv/.installed"  # 与 scripts/ensure-venv.sh（run.sh）共用
  if [ ! -f "$stamp" ] || [ "$here/pyproject.toml" -nt "$stamp" ] || ! "$py" -c 'import sys' >/dev/null 2>&1; then
    if ! base="$(find_python)"; then
      echo "没有找到 Python 3.11 或更高版本。"
      echo "请从 https://www.python.org/downloads/macos/ 下载并安装 Python 3.11 或更新版本"
      echo "（选“macOS 64-bit universal2 installer”），装好后重新双击“生成报告.command”。"
      echo "没有网络的电脑，请见 docs/离线安装.md。"
      finish 2
    fi
    if ! "$py" -c 'import sys' >/dev/null 2>&1; then
      echo "正在创建 Python 虚拟环境（.venv）……"
      if ! "$base" -m venv --clear "$venv"; then
        echo "创建虚拟环境失败，请查看上面的提示。"
        finish 2
      fi
    fi
    echo "首次运行：正在安装所需组件，请稍候（约需 1～3 分钟）……"
    if [ -d "$here/wheels" ]; then
      echo "使用 wheels 文件夹中的离线安装包。"
      "$py" -m pip install --disable-pip-version-check --no-index --find-links "$here/wheels" -e "$here"
    else
      "$py" -m pip install --disable-pip-version-check -e "$here"
    fi
    if [ $? -ne 0 ]; then
      echo
      echo "安装失败，请查看上面的提示。需要网络连接；没有网络的电脑请见 docs/离线安装.md。"
      finish 2
    fi
    touch "$stamp"
  fi
fi

# ---------------------------------------------------------------------------------------------------------
# 3. 生成报告

echo
echo "工作簿：$book"
echo "报告将保存到：$out"
echo "自定义模板：工作簿旁边或本文件夹中名为“模板”的文件夹（templates 的副本，可在 Word 中修改）会被自动使用。"
echo
"$py" -m excel_eval run "$book" -o "$out" --combined
rc=$?

echo
case $rc in
  0) echo "完成：报告已生成。" ;;
  1) echo "工作簿中有需要修改的问题：请查看上面的提示（也保存在输出文件夹的“问题清单.csv”中），修改后重新运行。" ;;
  *) echo "未能生成报告，请查看上面的提示。" ;;
esac

opener="${EXCEL_EVAL_OPEN:-}"
if [ -z "$opener" ] && [ "$(uname -s)" = Darwin ]; then
  opener=open
fi
if [ -n "$opener" ] && [ -d "$out" ] && command -v "$opener" >/dev/null 2>&1; then
  "$opener" "$out" >/dev/null 2>&1 || true
fi
finish "$rc"
