"""Writing back into the user's workbook: one generated sheet spliced into the package, nothing else changed.

Modules, from the bottom up: `spec` (what a sheet holds), `xmltext` (safe parsing, textual edits), `refs`,
`package` (the zip, relationships, content types), `styles`, `sheet` (worksheet XML), `chart`, `splice`
(replace one sheet), `summary` (the 汇总 sheet) and `save` (where the 汇总 goes, backups, atomic writes).
"""

from .package import sheet_names
from .spec import (BarChart, Cell, ConditionalFormat, Margins, PageSetup, SheetSpec, Style, UnsafeXmlError,
                   XlsxPackageError)
from .splice import replace_sheet, splice

__all__ = ["BarChart", "Cell", "ConditionalFormat", "Margins", "PageSetup", "SheetSpec", "Style", "UnsafeXmlError",
           "XlsxPackageError", "replace_sheet", "sheet_names", "splice"]
