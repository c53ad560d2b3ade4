"""qabot: answers questions over news articles by quoting them verbatim, with sources.

Nothing heavy is imported here, so ``qabot --help`` stays instant; the model loads on first use.
"""

from qabot.errors import QabotError
from qabot.models import Answer, Article, IngestReport, Quote

__all__ = ["Answer", "Article", "IngestReport", "QabotError", "Quote"]
__version__ = "0.1.0"
