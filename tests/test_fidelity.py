"""The sample workbook gives back the seed's four reports (tests/fixtures/seed_report_*.txt)."""

import difflib
import re
from pathlib import Path

import pytest

from excel_eval.render import document_text

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = sorted(FIXTURES.glob("seed_report_*.txt"))
FIGURE = re.compile(r"\d+(?:\.\d+)?(?:万元|元|%)")
# The seed writes 39.56/40 as 99% (rounded by hand); the exact figure is 98.9%.
EXPECTED_FIGURE_CHANGES = {0: {"99%": "98.9%"}}
# Text the report writes differently from the seed, on purpose: (report index, seed text, report text), each with
# the text around it so that the change is pinned to its place.
EXPECTED_TEXT_CHANGES = [
    # Report 2 spends 99.8% and gives no 偏差原因: the seed leaves the sentence open after "；"; the report states
    # the comparison and closes it (excel_eval.sentences: a comparison is always written, closed with 。).
    (1, "支付依据合规合法；（三）项目财务管理情况", "支付依据合规合法；与预算略有不符。（三）项目财务管理情况"),
]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def differences(expected: str, actual: str) -> list[str]:
    matcher = difflib.SequenceMatcher(None, expected, actual, autojunk=False)
    return [f"{op}: seed «{expected[i1:i2]}» → report «{actual[j1:j2]}»"
            for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"]


@pytest.mark.parametrize("index", range(len(SEEDS)), ids=[p.stem for p in SEEDS])
def test_report_matches_seed(sample_run, index):
    assert len(SEEDS) == 4 and len(sample_run.reports) == 4
    expected = squeeze(SEEDS[index].read_text(encoding="utf-8"))
    actual = squeeze(document_text(sample_run.reports[index]))
    ratio = difflib.SequenceMatcher(None, expected, actual, autojunk=False).ratio()
    diffs = differences(expected, actual)
    print(f"\n{SEEDS[index].stem}: similarity {ratio:.4f}, {len(diffs)} differences")
    for line in diffs:
        print("  ", line)
    assert ratio >= 0.99, "\n".join(diffs)


@pytest.mark.parametrize("index", range(len(SEEDS)), ids=[p.stem for p in SEEDS])
def test_every_seed_figure_is_in_the_report(sample_run, index):
    seed = SEEDS[index].read_text(encoding="utf-8")
    report = squeeze(document_text(sample_run.reports[index]))
    changes = EXPECTED_FIGURE_CHANGES.get(index, {})
    missing = [f for f in FIGURE.findall(seed) if changes.get(f, f) not in report]
    assert not missing, f"figures of the seed missing from the report: {missing}"


@pytest.mark.parametrize("index, seed_text, report_text", EXPECTED_TEXT_CHANGES)
def test_deliberate_changes_from_the_seed(sample_run, index, seed_text, report_text):
    seed = squeeze(SEEDS[index].read_text(encoding="utf-8"))
    report = squeeze(document_text(sample_run.reports[index]))
    assert seed_text in seed and seed_text not in report
    assert report_text in report
