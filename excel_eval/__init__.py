"""excel-eval: 从标准填报工作簿批量生成项目支出绩效自评报告。"""

__version__ = "0.1.0"

from loguru import logger as _logger

# A library stays quiet unless its user asks for its logs (the CLI enables them).
_logger.disable("excel_eval")
