"""The checks around a PDF conversion (excel_eval.pdf_check): the fonts a document asks for, and the
characters of a document missing from its PDF. The PDF side is given as page texts here; the layout test
(test_layout.py) checks real LibreOffice PDFs."""

from pathlib import Path

import pytest

from excel_eval import pdf_check

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def test_requested_fonts_of_a_report(sample_run):
    fonts = pdf_check.requested_fonts(sample_run.reports[:1])
    # the styles the report uses (正文, 标题 1–3, 报告标题, 副标题, 落款, the footer) and the defaults
    assert sorted(fonts) == sorted(["仿宋_GB2312", "Times New Roman", "黑体", "楷体_GB2312", "方正小标宋简体", "宋体"])


def test_font_warning_names_each_missing_font_and_its_stand_in(sample_run, monkeypatch):
    monkeypatch.setattr(pdf_check, "installed_families",
                        lambda: {"FangSong", "simhei", "Liberation Serif", "SimSun", "Noto Serif CJK SC"})
    monkeypatch.setattr(pdf_check, "substitute", lambda name: {"楷体_GB2312": "AR PL KaitiM GB"}.get(name))
    message = pdf_check.font_warning(sample_run.reports[:1])
    # 仿宋_GB2312 is there as FangSong, 黑体 as SimHei (any case), Times New Roman as its metric twin, 宋体 as SimSun
    assert message.startswith("本机未安装报告所用的字体：")
    assert "楷体_GB2312（将用 AR PL KaitiM GB 代替）" in message
    assert "方正小标宋简体（将由 LibreOffice 选择替代字体）" in message
    for present in ("仿宋_GB2312", "黑体", "Times New Roman", "宋体"):
        assert present not in message


def test_no_font_warning_when_all_are_there_or_fonts_cannot_be_listed(sample_run, monkeypatch):
    monkeypatch.setattr(pdf_check, "installed_families", lambda: {"仿宋_GB2312", "楷体_GB2312", "黑体", "宋体",
                                                                  "方正小标宋简体", "Times New Roman"})
    assert pdf_check.font_warning(sample_run.reports) is None
    monkeypatch.setattr(pdf_check, "installed_families", lambda: None)
    assert pdf_check.font_warning(sample_run.reports) is None


def fake_pdf(monkeypatch, document_text: str, pages: list[str]):
    monkeypatch.setattr(pdf_check, "docx_text", lambda path: document_text)
    monkeypatch.setattr(pdf_check, "pdf_pages_text", lambda path: pages)


@pytest.mark.parametrize("document, pages, lost", [
    # nothing lost; spaces, line breaks and the page numbers the PDF adds do not matter
    ("严格执行财务管理制度，账务处理及时。", ["严格执行财务管理制度，\n账务 处理及时。\n— 1 —"], []),
    # a mark dropped at the end of a full line on page 2
    ("第一页的文字。严格执行财务管理制度，账务处理及时。", ["第一页的文字。", "严格执行财务管理制度\n账务处理及时。"],
     [("，", 2)]),
    # the same sentence in two reports of a combined document, the mark lost in the second: page 3, not 1
    ("严格执行财务管理制度，账务处理及时。" * 2, ["严格执行财务管理制度，账务处理及时。", "", "严格执行财务管理制度账务处理及时。"],
     [("，", 3)]),
    # a compatibility form in the PDF (the Kangxi radical ⼀ for 一) is the same character
    ("一是有效化解。", ["⼀是有效化解。"], []),
    # a table's cells in another order: nothing lost; a lost one without a findable neighbourhood has no page
    ("项目名称经费分值10", ["经费项目名称 10 分值"], []),
    ("项目名称经费分值10", ["经费项目名 10 分值"], [("称", None)]),
])
def test_lost_characters(monkeypatch, document, pages, lost):
    fake_pdf(monkeypatch, document, pages)
    assert pdf_check.lost_characters(Path("a.docx"), Path("a.pdf")) == lost


def test_lost_text_message_names_the_file_and_page(monkeypatch):
    fake_pdf(monkeypatch, "严格执行财务管理制度，账务处理及时、规范。", ["严格执行财务管理制度账务处理及时规范。"])
    [(name, message)] = pdf_check.lost_text_messages([Path("报告.docx")], [Path("报告.pdf")])
    assert name == "报告.pdf"
    assert message.startswith("报告.pdf 中缺少 报告.docx 里的文字：“，”（第 1 页）；“、”（第 1 页）。")


def test_docx_text_reads_paragraphs_and_tables(sample_run):
    text = pdf_check.docx_text(sample_run.scorecards[0])
    assert "项目支出绩效自评表" in text and "一级指标" in text and "总分" in text
