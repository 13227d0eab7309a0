"""The once-compiled renderer gives the same documents as docxtpl's own render (the reference): on the bundled
templates, and on a small template for each feature a user can write (tests/docx_fixtures.py)."""

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import docxtpl
import pytest
from lxml import etree

from docx_fixtures import BOLD, RED, Package, cell, para, picture, row, run, table
from excel_eval.docx_render import CompiledDocx, RenderedXmlInvalid, package_parts, render_with_docxtpl
from excel_eval.metrics import Figures, ProjectRecord
from excel_eval.render import context, load_templates, make_environment
from excel_eval.scoring import Indicator, Scorecard, execution_score, score_indicator

TEMPLATES = load_templates()
_BLANKS = etree.XMLParser(remove_blank_text=True)  # as python-docx and Word read a part


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
                   "基本情况", "组织架构", "偏差原因", "前期准备", "组织实施", "存在问题", "有关建议")},
        payments=2,
        ledger=[{"date": dt.date(2021, 9, 1), "amount": 160000000, "category": "委托业务费", "source": "区本级资金",
                 "voucher": "记-09-001", "memo": "第一期 R&D"},
                {"date": dt.date(2021, 9, 7), "amount": 100000000, "category": None, "source": None,
                 "voucher": None, "memo": None}],
    )
    values.update(changes)
    return ProjectRecord(**values)


def scorecard() -> Scorecard:
    """Two indicators, one short of its target (as a project's scores come from scoring.score_project)."""
    rows = [("产出指标", "数量指标", "培训人次", "≥100人次", "80人次", Decimal(50), "受疫情影响 <部分> 改期"),
            ("满意度指标", "服务对象满意度指标", "满意度", "≥90%", "95%", Decimal(40), None)]
    indicators = [Indicator("P1", a, b, c, d, e, f, None, g) for a, b, c, d, e, f, g in rows]
    rate = Decimal(8912345) / Decimal(10000000)
    return Scorecard("P1", rate, execution_score(rate), [score_indicator(i)[0] for i in indicators])


CASES = {
    "standard": ("标准报告", record()),
    "no-deviation": ("标准报告", record(sections={k: ["一段"] for k in TEMPLATES["标准报告"].required_sections})),
    "supplement": ("追加项目报告", record(project_type="追加",
                                        figures=Figures(80000, 80000, 80000, 80000, 80000))),
    "supplement-no-date": ("追加项目报告", record(project_type="追加", received_date=None, by_source=[])),
    "detailed": ("详细报告", record(scorecard=scorecard())),
    "detailed-no-payments-no-indicators": ("详细报告", record(ledger=[], payments=0)),
}


def canonical(name: str, content: bytes) -> bytes:
    """A part in canonical form: XML without the blank text between elements (which neither Word nor
    python-docx keeps), in C14N; [Content_Types].xml as the content type of each part name or extension."""
    if name == "[Content_Types].xml":
        root = etree.fromstring(content)
        types = sorted((e.get("PartName") or e.get("Extension").lower(), e.get("ContentType")) for e in root)
        return repr(types).encode()
    if name.endswith((".xml", ".rels")):
        return etree.tostring(etree.fromstring(content, _BLANKS), method="c14n")
    return content


def canonical_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: canonical(name, archive.read(name)) for name in archive.namelist()}


def assert_same_as_docxtpl(tmp_path, source: bytes, values: dict, adjust=None) -> bytes:
    """Render `source` both ways; every part equal after canonicalization except the core properties, which
    python-docx rewrites on save (docxtpl renders some of them). Returns the compiled renderer's document.
    `adjust` changes the rendered body in both (on docxtpl's python-docx document before it is saved)."""
    env = make_environment()
    compiled = CompiledDocx(source, env, adjust)
    assert compiled.fast
    fast = compiled.write(values, tmp_path / "fast.docx").read_bytes()
    reference = render_with_docxtpl(source, values, env, tmp_path / "ref.docx", adjust).read_bytes()
    fast_parts, reference_parts = canonical_parts(fast), canonical_parts(reference)
    assert set(fast_parts) - {"docProps/core.xml"} == set(reference_parts) - {"docProps/core.xml"}
    differing = [p for p in reference_parts if p in fast_parts and fast_parts[p] != reference_parts[p]]
    assert set(differing) <= {"docProps/core.xml", "[Content_Types].xml"}, differing
    if "[Content_Types].xml" in differing:  # python-docx drops the entries of parts it does not write
        assert set(eval(reference_parts["[Content_Types].xml"])) <= set(eval(fast_parts["[Content_Types].xml"]))
    return fast


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bundled_templates_render_as_docxtpl_renders_them(tmp_path, case):
    name, project = CASES[case]
    template = TEMPLATES[name]
    values = context(project, template, dt.date(2026, 1, 1))
    assert_same_as_docxtpl(tmp_path, template.path.read_bytes(), values)


@pytest.mark.parametrize("indicators", [2, 0], ids=["two-indicators", "none"])
def test_the_scorecard_renders_as_docxtpl_renders_it_then_merged_and_fitted(tmp_path, indicators):
    """The 自评表 goes through the compiled renderer, its groups merged and widths fitted on the rendered XML;
    docxtpl's render with the same changes made to its python-docx document gives the same package."""
    import docx

    from excel_eval import scorecard as form

    card = scorecard()
    card.indicators = [i for i in card.indicators for _ in range(3)][:indicators * 3]  # groups to be merged
    source = TEMPLATES["绩效自评表"].path.read_bytes()
    em = form._font_twips(docx.Document(io.BytesIO(source)))
    fast = assert_same_as_docxtpl(tmp_path, source, form.context(record(), card, dt.date(2026, 1, 1)),
                                  lambda body: form.lay_out(body, em))
    xml = zipfile.ZipFile(io.BytesIO(fast)).read("word/document.xml").decode()
    assert xml.count("培训人次") == (3 if indicators else 0)
    # the template merges 3 cells; the rendered form also each group of three 一级 and 二级 cells
    assert xml.count('w:vMerge w:val="restart"') == 3 + (4 if indicators else 0)


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
    for method in ("get_xml", "get_part_xml", "fix_tables", "fix_docpr_ids"):
        assert callable(getattr(docxtpl.DocxTemplate, method)), method


# ------------------------------------------------------------------------------------- one template per feature

VALUES = {
    "名称": "R&D <测试> “引号”",
    "行": [{"甲": "一", "乙": Decimal("1.5")}, {"甲": "一", "乙": Decimal("2")}, {"甲": "二", "乙": Decimal("3")}],
    "列": ["春", "夏", "秋", "冬", "年"],
    "有": True,
    "数": 2,
    "段": ["第一段", "第二段", "第三段"],
    "两行": "第一行\n第二行\t缩进",
}


def _texts(data: bytes, part: str = "word/document.xml") -> list[str]:
    """The text of each paragraph of a part."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = etree.fromstring(archive.read(part))
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    return ["".join(t.text or "" for t in p.iter(w + "t")) for p in root.iter(w + "p")]


def _xml(data: bytes, part: str = "word/document.xml") -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(part).decode("utf-8")


def _grid(data: bytes) -> list[int]:
    """The number of grid columns of each table."""
    xml = _xml(data)
    return [len(re.findall(r"<w:gridCol\b", t)) for t in re.findall(r"<w:tblGrid>.*?</w:tblGrid>", xml)]


ROWS = table(
    row("甲", "乙"),
    row(cell("{%tr for 项 in 行 %}", span=2)),
    row("{{ 项.甲 }}{% vm %}", "{{ 项.乙 }}"),
    row(cell("{%tr endfor %}", span=2)),
    columns=2)

FEATURES = {
    # runs split where Word splits them: inside braces, inside a name, with formatting changing in the middle
    "split-runs": Package(
        para(run("{"), run("{ 名", BOLD), run("称 }"), run("}", RED), "。")
        + para(run("{%"), run("p if 有 %"), run("}"))
        + para("条件成立")
        + para(run("{%p endif %", RED), run("}"))),
    "row-loop-and-vertical-merge": Package(ROWS),
    "column-loop": Package(table(
        row("季度", "{%tc for 季 in 列 %}", "{{ 季 }}", "{%tc endfor %}"),
        row("合计", "一", "二", "三"),
        columns=4)),
    "horizontal-merge": Package(table(
        row("{%tc for 季 in 列 %}", "全年{% hm %}", "{%tc endfor %}"),
        row("一", "二", "三"),
        columns=3)),
    "colspan-and-cellbg": Package(table(
        row("{% colspan 数 %}合并", "删"),
        row('{% cellbg "FF0000" %}红', "绿"),
        columns=2)),
    "tc-comment-and-split-tc": Package(table(
        row("保留", "{#tc 这一格删除 #}", run("{%") + run("tc if 有 %}", BOLD), "条件格", "{%tc endif %}"),
        row("一", "二", "三", "四", "五"),
        columns=5)),
    "column-removed-from-every-row": Package(table(
        row("甲", "{%tc if not 有 %}", "乙", "{%tc endif %}"),
        row("一", "{%tc if not 有 %}", "二", "{%tc endif %}"),
        columns=4)),
    "comments": Package(
        para("前{# 注释 #}后")
        + para("{#p 整段注释 #}")
        + table(row("{#tr 这一行删除 #}", "x"), row("a", "b"), columns=2)),
    "headers-and-footers": Package(
        para("正文"),
        headers={"default": para(run("{"), run("{ 名称 }"), run("}")), "first": para("首页页眉"),
                 "even": para(run("{%p if 有 %"), run("}")) + para("偶数页") + para("{%p endif %}")},
        footers={"default": para("第", run("{{ 数 }", BOLD), run("}"), "页")}),
    "footnotes-and-endnotes": Package(
        para("正文", '<w:r><w:footnoteReference w:id="1"/></w:r>', '<w:r><w:endnoteReference w:id="1"/></w:r>'),
        footnotes=[para(run("{"), run("{ 名称 }}"))],
        endnotes=[para("{{ 名称 }}")]),
    "footnotes-in-two-sections": Package(para("正文") + para("第二节"), footnotes=[para("{{ 名称 }}")], sections=2),
    "pictures-in-a-loop": Package(
        para("{%p for 一段 in 段 %}") + para(picture(), "{{ 一段 }}") + para("{%p endfor %}") + para(picture(pic_id=2)),
        images=1),
    "document2": Package(para("{{ 名称 }}") + para("{%p for 一段 in 段 %}") + para("{{ 一段 }}") + para("{%p endfor %}"),
                         main="word/document2.xml", headers={"default": para("{{ 数 }}")}),
    "libreoffice-quotes": Package(
        para(run('{% if 名称 != "" %}有名称{% endif %}', quotes=True))
        + para(run('{{ 段|join("、") }}', quotes=True)),
        headers={"default": para(run('{{ "页眉" if 有 }}', quotes=True))}),
    "listing-characters": Package(para("{{ 两行 }}")),
    "whitespace-control": Package(para("住在") + para("{%- if 有 -%}") + para("城里") + para("{%- else -%}")
                                  + para("乡下") + para("{%- endif -%}") + para("，很好。")),
    "blank-text-between-elements": Package(para("{{ 名称 }}") + para("无标签"), pretty=True,
                                           headers={"default": para("无标签的页眉")}),
}


@pytest.mark.parametrize("feature", FEATURES, ids=list(FEATURES))
def test_each_feature_renders_as_docxtpl_renders_it(tmp_path, feature):
    assert_same_as_docxtpl(tmp_path, FEATURES[feature].to_bytes(), VALUES)


def render(tmp_path, feature: str) -> bytes:
    return CompiledDocx(FEATURES[feature].to_bytes(), make_environment()).write(VALUES, tmp_path / "o.docx").read_bytes()


def test_split_runs_are_joined(tmp_path):
    texts = _texts(render(tmp_path, "split-runs"))
    assert texts[:2] == ["R&D <测试> “引号”。", "条件成立"]


def test_a_row_loop_repeats_rows_and_merges_equal_cells(tmp_path):
    data = render(tmp_path, "row-loop-and-vertical-merge")
    assert _texts(data) == ["甲", "乙", "一", "1.5", "", "2", "", "3"]
    assert _xml(data).count('<w:vMerge w:val="restart"/>') == 1 and _xml(data).count('w:val="continue"') == 2


def test_a_column_loop_rebuilds_the_grid(tmp_path):
    data = render(tmp_path, "column-loop")
    assert _texts(data)[:6] == ["季度", "春", "夏", "秋", "冬", "年"]
    assert _grid(data) == [6]  # 1 + 5 cells: docxtpl's fix_tables adds the columns


def test_merges_colspan_and_removed_cells_rebuild_the_grid(tmp_path):
    assert _grid(render(tmp_path, "horizontal-merge")) == [3]
    merged = _xml(render(tmp_path, "horizontal-merge"))
    assert '<w:gridSpan w:val="5"/>' in merged
    assert '<w:gridSpan w:val="2"/>' in _xml(render(tmp_path, "colspan-and-cellbg"))
    assert 'w:fill="FF0000"' in _xml(render(tmp_path, "colspan-and-cellbg"))
    assert _grid(render(tmp_path, "column-removed-from-every-row")) == [1]  # docxtpl's fix_tables drops three
    data = render(tmp_path, "tc-comment-and-split-tc")
    assert _texts(data)[:2] == ["保留", "条件格"]
    assert _grid(data) == [5]  # rows of 2 and 5 cells: the widest row keeps all columns


def test_headers_footers_and_footnotes_with_split_braces_are_rendered(tmp_path):
    data = render(tmp_path, "headers-and-footers")
    assert _texts(data, "word/header1.xml") == ["R&D <测试> “引号”"]
    assert _texts(data, "word/header3.xml") == ["偶数页"]
    assert _texts(data, "word/footer1.xml") == ["第2页"]
    notes = render(tmp_path, "footnotes-and-endnotes")
    assert _texts(notes, "word/footnotes.xml")[2:] == ["R&D <测试> “引号”"]
    assert _texts(notes, "word/endnotes.xml")[2:] == ["{{ 名称 }}"]  # docxtpl renders no endnotes: the check says so


def test_pictures_repeated_by_a_loop_get_their_own_ids(tmp_path):
    xml = _xml(render(tmp_path, "pictures-in-a-loop"))
    ids = re.findall(r'<wp:docPr id="(\d+)"', xml)
    assert len(ids) == 4 and len(set(ids)) == 4


def test_a_main_part_named_document2_is_found_through_the_relationships(tmp_path):
    data = render(tmp_path, "document2")
    assert _texts(data, "word/document2.xml")[:4] == ["R&D <测试> “引号”", "第一段", "第二段", "第三段"]
    assert _texts(data, "word/header1.xml") == ["2"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = package_parts(lambda n: archive.read(n) if n in archive.namelist() else None)
    assert [(p.name, p.kind) for p in parts] == [("word/document2.xml", "document"), ("word/header1.xml", "header")]


def test_quotes_stored_as_entities_work_in_every_part(tmp_path):
    data = render(tmp_path, "libreoffice-quotes")
    assert _texts(data)[:2] == ["有名称", "第一段、第二段、第三段"]
    assert _texts(data, "word/header1.xml") == ["页眉"]
    # docxtpl renders the footnotes' raw XML, where the entity stops Jinja; the compiled renderer cleans them
    # as the other parts
    notes = Package(para("正文"), footnotes=[para(run('{{ 名称|default("无") }}', quotes=True))]).to_bytes()
    with pytest.raises(Exception, match="unexpected char '&'"):
        render_with_docxtpl(notes, VALUES, make_environment(), tmp_path / "ref.docx")
    out = CompiledDocx(notes, make_environment()).write(VALUES, tmp_path / "notes.docx").read_bytes()
    assert _texts(out, "word/footnotes.xml")[2:] == ["R&D <测试> “引号”"]


def test_whitespace_control_joins_paragraphs(tmp_path):
    assert _texts(render(tmp_path, "whitespace-control"))[:1] == ["住在城里，很好。"]


def test_tags_in_the_core_properties_fall_back_to_docxtpl(tmp_path):
    source = Package(para("{{ 名称 }}"), title="{{ 名称 }}").to_bytes()
    compiled = CompiledDocx(source, make_environment())
    assert not compiled.fast
    import docx

    out = compiled.write(VALUES, tmp_path / "o.docx")
    assert docx.Document(str(out)).core_properties.title.startswith("R&")


def test_a_render_that_breaks_the_document_structure_is_an_error(tmp_path):
    broken = Package(para("{% if 有 %}甲") + para("乙{% endif %}") + table(row("{% if not 有 %}丙"), columns=1)
                     + para("{% endif %}"))
    with pytest.raises(RenderedXmlInvalid):
        CompiledDocx(broken.to_bytes(), make_environment()).write(VALUES, tmp_path / "o.docx")


def test_the_well_formedness_check_refuses_what_the_tree_parser_refuses():
    """The check without a tree (check_well_formed) and lxml's tree parser agree on the standard report's
    body cut at random places, and on a prefix that is not declared (which a parser with a target only logs)."""
    import random

    from lxml import etree

    from excel_eval.docx_render import check_well_formed

    template = TEMPLATES["标准报告"]
    compiled = CompiledDocx(template.path, make_environment())
    body = compiled.render_parts(context(record(), template))["word/document.xml"]
    check_well_formed(body, "word/document.xml")
    rng = random.Random(7)
    refused = 0
    for _ in range(400):
        a = rng.randrange(len(body))
        cut = body[:a] + body[a + rng.randint(1, 40):]
        try:
            etree.fromstring(cut)
            tree_ok = True
        except etree.XMLSyntaxError:
            tree_ok = False
        try:
            check_well_formed(cut, "word/document.xml")
            check_ok = True
        except RenderedXmlInvalid:
            check_ok = False
        assert tree_ok == check_ok, cut[max(0, a - 80):a + 80]
        refused += not check_ok
    assert refused > 200
    undeclared = b'<w:body xmlns:w="u"><w:p><x:r/></w:p></w:body>'
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(undeclared)
    with pytest.raises(RenderedXmlInvalid, match="x"):
        check_well_formed(undeclared, "word/document.xml")


def test_compiled_templates_are_kept_between_runs_and_a_bad_cache_is_left_aside(tmp_path, monkeypatch):
    """The Jinja bytecode of a template's parts is cached (docx_render.compiled_template): a second compile
    in a new process loads it instead of compiling, and renders the same; a damaged entry or a cache folder
    that cannot be written only means compiling again."""
    from excel_eval import docx_render

    template = TEMPLATES["标准报告"]
    values = context(record(), template)
    monkeypatch.setattr(docx_render, "BYTECODE_FOLDER", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()

    def compile_counting():
        monkeypatch.setattr(docx_render, "_bytecode", None)  # as in a new process
        env = make_environment()
        compiled = []
        real = env.compile
        monkeypatch.setattr(env, "compile", lambda *a, **k: compiled.append(1) or real(*a, **k))
        out = CompiledDocx(template.path, env).write(values, tmp_path / f"r{len(list(tmp_path.iterdir()))}.docx")
        return len(compiled), canonical_parts(out.read_bytes())

    first, parts = compile_counting()
    entries = list((tmp_path / "cache").iterdir())
    assert first == 1 and len(entries) == 1  # the body; the footers have no tags
    assert compile_counting() == (0, parts)
    entries[0].write_bytes(b"not bytecode at all")
    assert compile_counting() == (1, parts)
    monkeypatch.setattr(docx_render, "BYTECODE_FOLDER", str(tmp_path / "cache" / "missing"))  # cannot be written
    assert compile_counting() == (1, parts)
    assert compile_counting() == (1, parts)
