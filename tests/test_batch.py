"""Rendering across processes (spawn, as on Windows) gives the same reports as rendering in-process."""

import datetime as dt

from excel_eval.batch import RenderJob, default_workers, render_reports, PARALLEL_FROM
from excel_eval.metrics import compute
from excel_eval.problems import Problems
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
