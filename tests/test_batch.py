"""Rendering across processes (forked on Linux and macOS, spawned as on Windows) gives the same reports as
rendering in-process."""

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import docx
import pytest

from excel_eval.batch import START_METHOD, RenderJob, default_workers, map_in_order, render_reports, PARALLEL_FROM
from excel_eval.metrics import compute
from excel_eval.pipeline import run
from excel_eval.problems import Problems
from excel_eval.resources import sample_workbook
from excel_eval.render import choose_template, document_text, load_templates
from excel_eval.reading import read_workbook

from workbooks import standard_sheets, write_workbook


def test_spawned_workers_write_the_same_reports(tmp_path):
    records = compute(read_workbook(write_workbook(tmp_path / "b.xlsx", standard_sheets()), Problems()))
    templates = load_templates()
    outcomes = {}
    for workers in (1, 2):
        folder = tmp_path / f"w{workers}"
        jobs = [RenderJob(r, choose_template(r), folder / f"{r.project_id}.docx") for r in records]
        folder.mkdir()
        done = []
        outcomes[workers] = list(render_reports(jobs, templates, dt.date(2026, 1, 1), workers, done.append))
        assert sum(done) == len(jobs)
    assert [o.project_id for o in outcomes[1]] == [o.project_id for o in outcomes[2]] == ["P1", "P2"]
    assert all(o.error is None for o in outcomes[2])
    for first, second in zip(outcomes[1], outcomes[2]):
        assert document_text(first.path) == document_text(second.path)


def test_processes_are_used_only_for_many_reports():
    assert default_workers(10) == 1
    assert default_workers(PARALLEL_FROM - 1) == 1
    assert default_workers(PARALLEL_FROM) >= 1


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_forked_and_spawned_workers_write_what_one_process_writes(tmp_path, method):
    if method == "fork" and START_METHOD != "fork":
        pytest.skip("processes cannot fork here")
    records = compute(read_workbook(write_workbook(tmp_path / "b.xlsx", standard_sheets()), Problems()))
    records = [dataclasses.replace(r, project_id=f"{r.project_id}-{n}", name=f"{r.name}第{n}期") for n in range(60)
               for r in records]
    templates = load_templates()
    texts = {}
    for workers in (1, 2):
        folder = tmp_path / f"{method}{workers}"
        folder.mkdir()
        jobs = [RenderJob(r, choose_template(r), folder / f"{r.project_id}.docx") for r in records]
        done = []
        outcomes = list(render_reports(jobs, templates, dt.date(2026, 1, 1), workers, done.append, method))
        assert sum(done) == len(jobs) == 120
        assert [o.project_id for o in outcomes] == [r.project_id for r in records]
        assert all(o.error is None for o in outcomes)
        texts[workers] = [document_text(o.path) for o in outcomes]
    assert texts[1] == texts[2]
    assert f"（{records[0].name}）" in texts[2][0] and f"（{records[-1].name}）" in texts[2][-1]


def test_forms_written_in_forked_workers_are_those_of_one_process(tmp_path):
    if START_METHOD != "fork":
        pytest.skip("processes cannot fork here")
    for workers in (1, 2):
        book = Path(shutil.copy(sample_workbook(), tmp_path / f"sample{workers}.xlsx"))
        result = run(book, tmp_path / f"w{workers}", workers=workers, now=dt.datetime(2026, 1, 1, 9))
        assert len(result.scorecards) == 4 and not result.problems.errors
    for first in (tmp_path / "w1").glob("*_自评表.docx"):
        second = tmp_path / "w2" / first.name
        assert [[c.text for c in r.cells] for t in docx.Document(first).tables for r in t.rows] == \
               [[c.text for c in r.cells] for t in docx.Document(second).tables for r in t.rows]


def test_map_in_order_keeps_the_order_and_counts_progress():
    done = []
    assert list(map_in_order(lambda n: n * n, range(237), 2, done.append)) == [n * n for n in range(237)]
    assert sum(done) == 237
