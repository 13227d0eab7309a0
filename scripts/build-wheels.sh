#!/usr/bin/env bash
# 在能上网的电脑上运行：把 excel-eval 的全部依赖下载到项目文件夹的 wheels/ 中，
# 之后把整个项目文件夹（不含 .venv 和 output）拷贝到没有网络的电脑上，双击“生成报告.bat”即可离线安装。
# 详见 docs/离线安装.md。
#
#   scripts/build-wheels.sh                                   Windows 64 位，Python 3.11、3.12、3.13
#   PY_VERSIONS="3.12" scripts/build-wheels.sh                只要 Python 3.12
#   PLATFORMS="macosx_12_0_arm64 macosx_12_0_x86_64" scripts/build-wheels.sh      macOS（生成报告.command）
#
# 环境变量：PYTHON（运行 pip 的 Python，3.11 或更高，默认 python3）、PY_VERSIONS、PLATFORMS（pip 的平台标签，
# 空格分隔）、WHEELS（输出文件夹，默认 <项目>/wheels）。已下载的文件不会重复下载，可以多次运行来补充。
#
# pip download 按“本机”判断依赖的环境标记（如 colorama; sys_platform == "win32"），在 Linux/macOS 上为
# Windows 下载时会漏掉这类依赖；所以下载后逐个读取安装包的依赖，按目标平台判断，缺的再补下载。
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
PY_VERSIONS="${PY_VERSIONS:-3.11 3.12 3.13}"
PLATFORMS="${PLATFORMS:-win_amd64}"
WHEELS="${WHEELS:-$PWD/wheels}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "需要 Python 3.11 或更高版本来读取 pyproject.toml（当前：$("$PYTHON" --version 2>&1)）。" >&2
  echo "可用 PYTHON=/路径/python3.11 指定。" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 运行依赖（[project].dependencies）、构建依赖（[build-system].requires，pip install -e 时要用），
# 以及旧版 setuptools 做可编辑安装时需要的 wheel。
"$PYTHON" - >"$work/requirements.txt" <<'EOF'
import tomllib

with open("pyproject.toml", "rb") as f:
    spec = tomllib.load(f)
for requirement in [*spec["project"]["dependencies"], *spec["build-system"]["requires"], "wheel"]:
    print(requirement)
EOF

# 列出 wheels/ 中的安装包所需、但还没有适用于目标平台和 Python 版本的依赖（去掉环境标记，供 pip download）。
cat >"$work/missing.py" <<'EOF'
import re
import sys
import zipfile
from pathlib import Path

from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name

folder, version, platform = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
if platform.startswith("win"):
    env = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
           "platform_machine": "AMD64" if platform.endswith("amd64") else "x86"}
elif platform.startswith("macosx"):
    env = {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
           "platform_machine": "arm64" if platform.endswith("arm64") else "x86_64"}
else:
    env = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
           "platform_machine": platform.rsplit("_", 1)[-1] if "_" in platform else "x86_64"}
env.update(python_version=version, python_full_version=f"{version}.0", implementation_name="cpython",
           platform_python_implementation="CPython", extra="")
cp = "cp" + version.replace(".", "")


def fits(wheel: Path) -> bool:
    """The wheel installs on the target Python version (platform tags are pip download's business)."""
    python_tags, abi_tags = wheel.name[:-4].split("-")[-3:-1]
    for python_tag in python_tags.split("."):
        if python_tag in ("py3", "py2.py3", cp, "py" + version.replace(".", "")):
            return True
        if abi_tags == "abi3" and python_tag.startswith("cp3") and int(python_tag[3:]) <= int(cp[3:]):
            return True
    return False


wheels = [w for w in folder.glob("*.whl") if fits(w)]
have = {canonicalize_name(w.name.split("-")[0]) for w in wheels}
missing = {}
for wheel in wheels:
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
        metadata = z.read(name).decode("utf-8")
    for line in metadata.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        requirement = Requirement(line.split(":", 1)[1].strip())
        if requirement.marker is not None and not requirement.marker.evaluate(env):
            continue
        key = canonicalize_name(requirement.name)
        if key not in have:
            missing[key] = f"{requirement.name}{requirement.specifier}"
sys.stdout.write("".join(f"{r}\n" for r in missing.values()))
EOF

mkdir -p "$WHEELS"
for platform in $PLATFORMS; do
  for version in $PY_VERSIONS; do
    abi="cp${version//./}"
    echo "== Python $version，$platform" >&2
    download=("$PYTHON" -m pip download --disable-pip-version-check --quiet --only-binary=:all:
      --platform "$platform" --implementation cp --python-version "$version" --abi "$abi" --abi abi3 --abi none
      --dest "$WHEELS")
    "${download[@]}" -r "$work/requirements.txt"
    for _ in 1 2 3 4 5; do
      "$PYTHON" "$work/missing.py" "$WHEELS" "$version" "$platform" >"$work/missing.txt"
      [ -s "$work/missing.txt" ] || break
      echo "   补充平台专用的依赖：$(tr '\n' ' ' <"$work/missing.txt")" >&2
      "${download[@]}" -r "$work/missing.txt"
    done
    if [ -s "$work/missing.txt" ]; then
      echo "仍缺少：$(cat "$work/missing.txt")" >&2
      exit 1
    fi
  done
done

count="$(find "$WHEELS" -maxdepth 1 -name '*.whl' | wc -l | tr -d ' ')"
size="$(du -sh "$WHEELS" | cut -f1)"
echo "完成：$WHEELS 中有 $count 个安装包（$size）。" >&2
echo "把整个项目文件夹（不含 .venv 和 output）拷贝到离线电脑，双击“生成报告.bat”即可安装并运行。" >&2
