"""The once-compiled renderer gives the same documents as docxtpl's own render (the reference)."""

import datetime as dt
import io
import zipfile

import docxtpl
import pytest
from lxml import etree

from excel_eval.docx_render import CompiledDocx, render_with_docxtpl
from excel_eval.metrics import Figures, ProjectRecord
from excel_eval.render import context, load_templates, make_environment

TEMPLATES = load_templates()


def record(**changes) -> ProjectRecord:
    values = dict(
        project_id="P1", name="测试专项经费", unit_name="某某县测试局", unit_short_name="测试局", year=2021,
        project_type="常规", template=None, report_date=dt.date(2022, 5, 10), excel_row=2,
        figures=Figures(10000000, 10000000, 10000000, 9000000, 8912345),
        received_date=dt.date(2021, 5, 18),
        by_source=[{"source": "区本级资金", "declared": 10000000, "approved": 10000000, "budget": 8000000,
                    "received": 7000000, "spent": 8912345},
                   {"source": "市级资金", "declared": 0, "approved": 0, "budget": 2000000, "received": 2000000,
                    "spent": 0}],
        sections={key: [f"{key}第一段 R&D <测试> “引号”", f"{key}第二段"] for key in
                  ("职能", "立项依据", "资金分配", "主要内容", "绩效目标", "实施管理", "完成情况", "效益情况",
                   "基本情况", "组织架构", "偏差原因")},
    )
    values.update(changes)
    return ProjectRecord(**values)


CASES = {
    "standard": ("标准报告", record()),
    "no-deviation": ("标准报告", record(sections={k: ["一段"] for k in TEMPLATES["标准报告"].required_sections})),
    "supplement": ("追加项目报告", record(project_type="追加",
                                        figures=Figures(80000, 80000, 80000, 80000, 80000))),
    "supplement-no-date": ("追加项目报告", record(project_type="追加", received_date=None, by_source=[])),
}


def canonical_parts(data: bytes) -> dict[str, bytes]:
    """Every XML part in canonical form (C14N), other parts as bytes."""
    parts = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            content = archive.read(name)
            if name.endswith((".xml", ".rels")):
                content = etree.tostring(etree.fromstring(content), method="c14n")
            parts[name] = content
    return parts


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_compiled_render_equals_docxtpl(tmp_path, case):
    name, project = CASES[case]
    template = TEMPLATES[name]
    env = make_environment()
    values = context(project, template, dt.date(2026, 1, 1))
    compiled = CompiledDocx(template.path, env)
    assert compiled.fast
    fast = compiled.write(values, tmp_path / "fast.docx").read_bytes()
    reference = render_with_docxtpl(template.path, values, env, tmp_path / "ref.docx").read_bytes()
    fast_parts, reference_parts = canonical_parts(fast), canonical_parts(reference)
    assert set(fast_parts) == set(reference_parts)
    for part in ("word/document.xml", "word/styles.xml", "word/footer1.xml"):
        if part in reference_parts:
            assert fast_parts[part] == reference_parts[part], part
    differing = [p for p in fast_parts if fast_parts[p] != reference_parts[p]]
    # python-docx rewrites core properties on save (its own revision/dates); nothing else may differ.
    assert set(differing) <= {"docProps/core.xml"}, differing


def test_a_second_render_from_the_same_compiled_template_is_independent(tmp_path):
    template = TEMPLATES["标准报告"]
    compiled = CompiledDocx(template.path, make_environment())
    first = compiled.write(context(record(name="甲项目"), template), tmp_path / "a.docx")
    second = compiled.write(context(record(name="乙项目"), template), tmp_path / "b.docx")
    import docx

    assert "（甲项目）" in [p.text for p in docx.Document(str(first)).paragraphs]
    assert "（乙项目）" in [p.text for p in docx.Document(str(second)).paragraphs]


def test_pinned_docxtpl_internals():
    """The compiled renderer calls these docxtpl internals; a docxtpl upgrade that changes them fails here."""
    assert docxtpl.__version__.startswith("0.20.")
    template = docxtpl.DocxTemplate(str(TEMPLATES["标准报告"].path))
    patched = template.patch_xml('<w:p><w:r><w:t>{%p if x %}</w:t></w:r></w:p><w:p><w:r><w:t>{{ a }}</w:t></w:r></w:p>')
    assert patched == '{% if x %}<w:p><w:r><w:t xml:space="preserve">{{ a }}</w:t></w:r></w:p>'
    assert template.resolve_listing("<w:p><w:r><w:t>a</w:t></w:r></w:p>") == "<w:p><w:r><w:t>a</w:t></w:r></w:p>"
