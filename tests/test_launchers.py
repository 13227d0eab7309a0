"""The double-click launchers: 生成报告.bat (read line by line: Windows is not available here) and
生成报告.command (run for real with bash, in a copy of the repository under a path with Chinese and spaces)."""

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from workbooks import standard_sheets, write_workbook

REPO = Path(__file__).resolve().parent.parent
BAT = REPO / "生成报告.bat"
COMMAND = REPO / "生成报告.command"
BUILD_WHEELS = REPO / "scripts" / "build-wheels.sh"
SAMPLE = next((REPO / "sample_workbooks").glob("*.xlsx"))
SAMPLE_PROJECTS = {"510411-2021-XF001", "510411-2021-XF002", "510411-2021-XF003", "510411-2021-ZJ001"}


def _reported(out: Path) -> set[str]:
    """The project ids that have a report (.docx) in `out`."""
    return {p.name.split("_")[0] for p in out.glob("*.docx") if not p.stem.endswith("_自评报告合集")}


def combined(out: Path) -> list[Path]:
    """The combined document the launchers ask for."""
    return list(out.glob("*_自评报告合集.docx"))

# ----------------------------------------------------------------------------------------------------------
# 生成报告.bat


@pytest.fixture(scope="module")
def bat_bytes():
    return BAT.read_bytes()


@pytest.fixture(scope="module")
def bat(bat_bytes):
    """The lines of the .bat, without their CRLF."""
    return bat_bytes.decode("utf-8").split("\r\n")


def _code(lines):
    """(line number, line) of the lines that are not comments or blank."""
    return [(n, line) for n, line in enumerate(lines, start=1)
            if line.strip() and not line.lstrip().lower().startswith(("rem ", "::"))]


def test_bat_is_utf8_with_crlf_and_no_bom(bat_bytes):
    assert not bat_bytes.startswith(b"\xef\xbb\xbf")  # a BOM would break "@echo off" on the first line
    assert b"\r\n" in bat_bytes
    assert b"\n" not in bat_bytes.replace(b"\r\n", b"")  # no bare LF
    assert b"\r" not in bat_bytes.replace(b"\r\n", b"")  # no bare CR
    assert bat_bytes.endswith(b"\r\n")
    bat_bytes.decode("utf-8")


def test_bat_switches_to_utf8_before_any_non_ascii(bat):
    assert bat[0] == "@echo off"
    chcp = next(i for i, line in enumerate(bat) if line.strip().lower() == "chcp 65001 >nul")
    assert chcp < 12
    assert all(line.isascii() for line in bat[:chcp + 1])
    assert not any(line.lstrip().lower().startswith("echo ") for line in bat[:chcp])


def test_bat_commands_are_ascii_chinese_only_in_messages(bat):
    for number, line in _code(bat):
        if line.isascii():
            continue
        command = re.sub(r'^(if (not )?("[^"]*"==("[^"]*"|\S+)|defined \S+|exist "[^"]*") )+', "", line.strip())
        assert command.startswith(("echo ", 'set /p "')), f"line {number}: non-ASCII outside a message: {line}"
    for number, line in enumerate(bat, start=1):
        if line.lstrip().lower().startswith("rem"):
            assert line.isascii(), f"line {number}"


def test_bat_messages_have_no_unquoted_special_characters(bat):
    for number, line in _code(bat):
        match = re.search(r"\becho (.*)$", line)
        if not match or line.strip().startswith("echo."):
            continue
        unquoted = re.sub(r'"[^"]*"', "", match.group(1))
        assert not set(unquoted) & set("<>|&^"), f"line {number}: {line}"


PATH_VARIABLES = ("%HERE%", "%BOOK%", "%OUT%", "%PY%", "%VENV%", "%STAMP%", "%~dp0", "%~f1", "%~1", "%%~fF",
                  "%CAND1%", "%EXCEL_EVAL_PYTHON%")


def test_bat_quotes_every_path(bat):
    for number, line in _code(bat):
        for variable in PATH_VARIABLES:
            for match in re.finditer(re.escape(variable), line):
                before = line[:match.start()]
                assert before.count('"') % 2 == 1, f"line {number}: {variable} outside quotes: {line}"


def test_bat_works_from_its_own_folder(bat):
    text = "\n".join(bat)
    assert 'set "HERE=%~dp0"' in text
    assert 'pushd "%~dp0"' in text
    assert "popd" in text
    assert '"%PY%" -m excel_eval run "%BOOK%" -o "%OUT%"' in text
    assert 'set "OUT=%HERE%output\\%STEM%"' in text
    assert 'start "" "%OUT%"' in text


def test_bat_chooses_the_workbook(bat):
    text = "\n".join(bat)
    assert 'if not "%~1"=="" set "BOOK=%~f1"' in text  # dropped onto the script
    assert '"%HERE%*.xlsx" "%HERE%*.xlsm"' in text  # else the workbooks beside it
    assert '"~$"' in text  # without Excel's lock files
    assert 'if "%COUNT%"=="1" set "BOOK=%CAND1%"' in text
    assert 'set /p "CHOICE=' in text  # else a numbered pick


def test_bat_finds_python_with_the_py_launcher_then_python(bat):
    text = "\n".join(bat)
    body = text[text.index("\n:find_python\n"):]
    assert re.search(r"for %%V in \(3 [\d. ]*\) do if not defined BASEPY py -%%V -c \"import sys; "
                     r"sys.exit\(sys.version_info < \(3, 11\)\)\"", body)
    assert re.search(r'^python -c "import sys; sys.exit\(sys.version_info < \(3, 11\)\)".*set "BASEPY=python"', body,
                     re.M)
    assert body.index("py -%%V") < body.index("python -c")
    assert "%BASEPY% -m venv" in text
    no_python = text[text.index("\n:no_python\n"):]
    no_python = no_python[:no_python.index("goto :fail")]
    assert "https://www.python.org/downloads/" in no_python and "3.11" in no_python
    assert "Add python.exe to PATH" in no_python


def test_bat_installs_from_wheels_when_present(bat):
    text = "\n".join(bat)
    assert 'if exist "%HERE%wheels\\" goto :install_offline' in text
    assert ('"%PY%" -m pip install --disable-pip-version-check --no-index --find-links "%HERE%wheels" -e "%HERE%."'
            in text)
    assert '"%PY%" -m pip install --disable-pip-version-check -e "%HERE%."' in text
    assert 'type nul > "%STAMP%"' in text


def test_bat_always_pauses_before_it_ends(bat):
    code = [line.strip() for _, line in _code(bat)]
    labels = {line[1:].lower() for line in code if line.startswith(":")}
    for line in code:
        for target in re.findall(r"\b(?:goto|call) :(\w+)", line, re.I):
            assert target.lower() in labels | {"eof"}, line
    exits = [i for i, line in enumerate(code) if re.match(r"exit\b", line, re.I)]
    assert len(exits) == 1 and exits[0] == len(code) - 1  # one way out, at the very end
    pause = code.index("pause")
    assert code.index(":end") < pause < exits[0]
    assert code.index(":fail") < code.index(":end")
    assert all(re.match(r"(popd|if defined OLDCP chcp %OLDCP% >nul)$", line) for line in code[pause + 1:-1])
    # message blocks end by going to :fail, which falls through to :end and the pause
    for label in ("not_extracted", "no_book", "book_missing", "no_python", "venv_failed", "install_failed"):
        block = code[code.index(f":{label}") + 1:]
        assert next(line for line in block if line.startswith("goto")) == "goto :fail", label


# ----------------------------------------------------------------------------------------------------------
# 生成报告.command and scripts/build-wheels.sh

bash = shutil.which("bash")
needs_bash = pytest.mark.skipif(bash is None, reason="bash is not installed")


def test_command_is_an_executable_bash_script():
    data = COMMAND.read_bytes()
    assert data.startswith(b"#!/usr/bin/env bash\n")
    assert b"\r" not in data
    assert COMMAND.stat().st_mode & stat.S_IXUSR
    text = data.decode("utf-8")
    assert 'read -n 1 -s -r -p "按任意键关闭……"' in text
    assert text.rstrip().endswith('finish "$rc"')
    assert "https://www.python.org/downloads/" in text and "(3, 11)" in text
    assert '--no-index --find-links "$here/wheels" -e "$here"' in text


@needs_bash
@pytest.mark.parametrize("script", [COMMAND, BUILD_WHEELS], ids=lambda p: p.name)
def test_scripts_parse(script):
    subprocess.run([bash, "-n", str(script)], check=True)


@pytest.fixture
def folder(tmp_path):
    """A copy of the repository (without .venv, .git, output) under a path with Chinese characters and spaces."""
    here = tmp_path / "测试 目录" / "excel-eval 程序"
    shutil.copytree(REPO, here, ignore=shutil.ignore_patterns(
        ".venv", ".git", "output", "wheels", "__pycache__", ".pytest_cache", "*.egg-info", "benchmarks"))
    return here


def _launch(folder: Path, stdin: str, *args: str, **env) -> subprocess.CompletedProcess:
    opened = folder.parent / "opened.txt"
    opener = folder.parent / "opener.sh"
    opener.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{opened}"\n', encoding="utf-8")
    opener.chmod(0o755)
    environment = {**os.environ, "EXCEL_EVAL_PYTHON": sys.executable, "EXCEL_EVAL_OPEN": str(opener), **env}
    return subprocess.run([bash, str(folder / COMMAND.name), *args], input=stdin, capture_output=True, text=True,
                          cwd=folder.parent, env=environment, timeout=120)


def _opened(folder: Path) -> list[str]:
    opened = folder.parent / "opened.txt"
    return opened.read_text(encoding="utf-8").splitlines() if opened.exists() else []


@needs_bash
def test_command_picks_from_a_list(folder):
    shutil.copy2(SAMPLE, folder / "a 示例.xlsx")
    shutil.copy2(SAMPLE, folder / "b 副本.xlsx")
    (folder / "~$a 示例.xlsx").write_bytes(b"")  # Excel's lock file is not offered
    result = _launch(folder, "9\n1\nx")  # a wrong number, then the first workbook, then the final keypress
    assert result.returncode == 0, result.stdout + result.stderr
    menu = result.stderr
    assert "1) a 示例.xlsx" in menu and "2) b 副本.xlsx" in menu and "~$" not in menu
    assert "没有编号“9”" in result.stdout
    out = folder / "output" / "a 示例"
    assert _reported(out) == SAMPLE_PROJECTS
    assert len(combined(out)) == 1  # the launchers ask for the combined document
    assert not (folder / "output" / "b 副本").exists()
    assert _opened(folder) == [str(out)]
    assert "完成：报告已生成。" in result.stdout  # (bash shows read's "按任意键关闭" prompt only on a terminal)


@needs_bash
def test_command_takes_a_dropped_workbook_and_reports_problems(folder, tmp_path):
    elsewhere = tmp_path / "别处 文件夹"
    elsewhere.mkdir()
    broken = write_workbook(elsewhere / "c 有问题.xlsx", {**standard_sheets(), "项目": [standard_sheets()["项目"][0]]})
    result = _launch(folder, "x", str(broken))
    assert result.returncode == 1, result.stdout + result.stderr
    out = folder / "output" / "c 有问题"
    assert (out / "问题清单.csv").exists()
    assert "“项目”表中没有任何项目" in result.stdout + result.stderr
    assert "工作簿中有需要修改的问题" in result.stdout
    assert _opened(folder) == [str(out)]


@needs_bash
def test_command_uses_the_only_workbook(folder):
    shutil.copy2(SAMPLE, folder / "唯一 工作簿.xlsx")
    result = _launch(folder, "x")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _reported(folder / "output" / "唯一 工作簿") == SAMPLE_PROJECTS
    assert "多个工作簿" not in result.stdout


@needs_bash
def test_command_without_a_workbook_asks_for_one(folder, tmp_path):
    dropped = tmp_path / "拖入 的"
    dropped.mkdir()
    shutil.copy2(SAMPLE, dropped / "d 拖入.xlsx")
    escaped = str(dropped / "d 拖入.xlsx").replace(" ", "\\ ") + " "  # as Terminal pastes a dragged file
    result = _launch(folder, escaped + "\nx")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "请把工作簿文件拖到这个窗口中" in result.stdout
    assert _reported(folder / "output" / "d 拖入") == SAMPLE_PROJECTS


@needs_bash
def test_command_outside_its_folder_says_to_unzip(tmp_path):
    lone = tmp_path / "压缩包预览"
    lone.mkdir()
    shutil.copy2(COMMAND, lone / COMMAND.name)
    result = _launch(lone, "x")
    assert result.returncode == 2
    assert "请先把压缩包完整解压" in result.stdout


@pytest.mark.skipif(os.environ.get("EXCEL_EVAL_INSTALL_TEST") != "1",
                    reason="creates .venv and installs from PyPI (minutes); set EXCEL_EVAL_INSTALL_TEST=1")
@needs_bash
def test_command_first_run_installs(folder):
    shutil.copy2(SAMPLE, folder / "示例.xlsx")
    result = _launch(folder, "x", EXCEL_EVAL_PYTHON="")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (folder / ".venv" / ".installed").exists()
    assert _reported(folder / "output" / "示例") == SAMPLE_PROJECTS
    again = _launch(folder, "x", EXCEL_EVAL_PYTHON="")  # the second run does not install again
    assert again.returncode == 0 and "首次运行" not in again.stdout


@needs_bash
def test_command_uses_a_template_folder_beside_it(folder):
    """A folder named 模板 in the program folder holds the user's templates: used without any option, and said."""
    from docx_fixtures import Package, para

    shutil.copy2(SAMPLE, folder / "唯一 工作簿.xlsx")
    (folder / "模板").mkdir()
    (folder / "模板" / "标准报告.docx").write_bytes(Package(para("本单位格式：{{ 项目名称 }}")).to_bytes())
    result = _launch(folder, "x")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "名为“模板”的文件夹" in result.stdout and "使用“模板”文件夹中的模板" in result.stderr
    out = folder / "output" / "唯一 工作簿"
    texts = [docx.Document(str(p)).paragraphs[0].text for p in sorted(out.glob("*.docx"))
             if not p.stem.endswith(("_自评表", "合集"))]
    assert sum(t.startswith("本单位格式：") for t in texts) == 3  # the three 常规 projects; the 追加 one is bundled
