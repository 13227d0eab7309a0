"""The reader's public names, under the module name earlier code imported them from (see excel_eval.reading)."""

from .reading import ROW, Table, WorkbookData, read_workbook  # noqa: F401
