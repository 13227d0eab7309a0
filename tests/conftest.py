import datetime as dt
import shutil
from pathlib import Path

import pytest

from excel_eval.pipeline import run
from excel_eval.resources import sample_workbook

FIXTURES = Path(__file__).parent / "fixtures"
RUN_TIME = dt.datetime(2026, 11, 27, 9, 30)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """The bundled sample, copied and run once for the whole session."""
    folder = tmp_path_factory.mktemp("sample")
    book = folder / sample_workbook().name
    shutil.copy2(sample_workbook(), book)
    return run(book, folder / "out", now=RUN_TIME)
