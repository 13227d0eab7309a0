"""The command line: exit codes, Chinese messages, no tracebacks; what each command imports."""

import json
import subprocess
import sys

import click
from click.testing import CliRunner
from docx import Document

from excel_eval.cli import main

from workbooks import standard_sheets, standard_workbook, write_workbook


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_run_on_a_workbook(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    result = invoke("run", book, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "已生成 2 份报告" in result.output
    assert "“汇总”表已写入工作簿" in result.output


def test_run_without_a_workbook_uses_a_copy_of_the_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run")
    assert result.exit_code == 0, result.output
    reports = [p for p in (tmp_path / "output").glob("*/*.docx") if not p.stem.endswith("_自评表")]
    assert len(reports) == 4
    assert len(list((tmp_path / "output").glob("*.xlsx"))) == 1


def test_check_exit_codes(tmp_path):
    assert invoke("check", standard_workbook(tmp_path / "good.xlsx")).exit_code == 0
    sheets = standard_sheets()
    sheets["支出明细"][2][2] = "三千"
    result = invoke("check", write_workbook(tmp_path / "bad.xlsx", sheets))
    assert result.exit_code == 1
    assert "支出明细!C3" in result.output and "三千" in result.output
    assert "Traceback" not in result.output


def test_usage_errors_exit_2_without_traceback(tmp_path):
    result = invoke("run", tmp_path / "没有.xlsx", "-o", tmp_path / "out")
    assert result.exit_code == 2 and "找不到文件" in result.output and "Traceback" not in result.output
    (tmp_path / "旧.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    result = invoke("check", tmp_path / "旧.xls")
    assert result.exit_code == 2 and "另存为" in result.output


def test_workbook_errors_exit_1_and_write_nothing(tmp_path):
    sheets = standard_sheets()
    sheets["项目"].append(list(sheets["项目"][1]))
    book = write_workbook(tmp_path / "账.xlsx", sheets)
    result = invoke("run", book, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "项目!A4" in result.output and "未生成报告" in result.output
    assert not list((tmp_path / "out").glob("*.docx"))


def test_every_command_and_option_has_chinese_help_and_is_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert set(main.commands) == {"run", "check", "new", "templates"}
    for name, command in main.commands.items():
        result = invoke(name, "--help")
        assert result.exit_code == 0
        assert any("\u4e00" <= ch <= "\u9fff" for ch in command.help)
        assert f"excel-eval {name}" in readme, name
        for parameter in command.params:
            if isinstance(parameter, click.Option) and parameter.help:
                assert any("\u4e00" <= ch <= "\u9fff" for ch in parameter.help), parameter.name
                assert any(opt in readme for opt in parameter.opts), (name, parameter.opts)


def test_the_same_option_means_the_same_thing_in_every_command():
    seen = {}
    for command in main.commands.values():
        for parameter in command.params:
            if isinstance(parameter, click.Option) and parameter.help:
                key = tuple(parameter.opts)
                assert seen.setdefault(key, parameter.help) == parameter.help, key


def test_progress_and_log_file(tmp_path):
    book = standard_workbook(tmp_path / "账.xlsx")
    result = invoke("run", book, "-o", tmp_path / "out", "--combined", "-j", "1")
    assert result.exit_code == 0, result.output
    log = (tmp_path / "out" / "运行日志.log").read_text(encoding="utf-8")
    assert "run" in log and "用时" in log
    assert "正在生成报告" not in result.output  # no progress bar when the output is not a terminal
    assert "全部报告已合并为" in result.output


def test_label_is_kept_as_typed(tmp_path):
    book = standard_workbook(tmp_path / "book.xlsx")
    for label in ("附件3", "附件3："):
        out = tmp_path / label
        assert invoke("run", book, "-o", out, "--label", label).exit_code == 0
        combined = next(out.glob("*合集.docx"))
        assert Document(str(combined)).paragraphs[0].text == label


HEAVY = ("pandas", "numpy", "openpyxl", "docx", "docxtpl", "jinja2")
_LOADED = """
import json, sys
from excel_eval.cli import main
try:
    main(sys.argv[2:])
except SystemExit:
    pass
with open(sys.argv[1], "w") as f:
    json.dump(sorted(m for m in {heavy!r} if m in sys.modules), f)
"""


def loaded_by(tmp_path, *args) -> list[str]:
    """The heavy modules a command imports, run as the user starts it (a fresh interpreter)."""
    found = tmp_path / "modules.json"
    subprocess.run([sys.executable, "-c", _LOADED.format(heavy=HEAVY), str(found), *map(str, args)],
                   cwd=tmp_path, check=True, capture_output=True)
    return json.loads(found.read_text())


def test_help_and_new_start_without_the_report_machinery(tmp_path):
    """`--help` imports none of the heavy libraries; `new` writes with openpyxl and reads the templates, but
    never imports pandas; `run` reads, computes and writes without openpyxl (the reader's fallback engine),
    pandas or numpy."""
    assert loaded_by(tmp_path, "--help") == []
    assert loaded_by(tmp_path, "run", "--help") == []
    new = loaded_by(tmp_path, "new", tmp_path / "空白.xlsx")
    assert "pandas" not in new and "openpyxl" in new and (tmp_path / "空白.xlsx").exists()
    run = loaded_by(tmp_path, "run", "-q")
    assert "openpyxl" not in run and "pandas" not in run and "numpy" not in run and "docxtpl" in run
    assert len(list((tmp_path / "output").glob("*/*_自评表.docx"))) == 4


def test_the_program_ends_at_once_with_everything_said_and_written(tmp_path):
    """As the program itself (`python -m excel_eval`, the `excel-eval` script), a run ends without Python's
    tear-down; everything it printed to a pipe and logged is there, and the exit code is the run's."""
    book = standard_workbook(tmp_path / "book.xlsx")
    done = subprocess.run([sys.executable, "-m", "excel_eval", "run", str(book), "-o", str(tmp_path / "out")],
                          cwd=tmp_path, capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"已生成 2 份报告，保存在：{(tmp_path / 'out').resolve()}"
    assert done.stdout.splitlines()[-1].startswith("“汇总”表已写入工作簿：")
    assert "用时" in (tmp_path / "out" / "运行日志.log").read_text(encoding="utf-8").splitlines()[-1]

    sheets = standard_sheets()
    sheets["支出明细"][2][2] = "三千"
    broken = write_workbook(tmp_path / "bad.xlsx", sheets)
    checked = subprocess.run([sys.executable, "-m", "excel_eval", "check", str(broken)], cwd=tmp_path,
                             capture_output=True, text=True, encoding="utf-8")
    assert checked.returncode == 1
    assert checked.stdout.splitlines()[-1].startswith("检查完成：1 个错误")
