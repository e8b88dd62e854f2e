"""Live metadata: arXiv, Semantic Scholar and OpenAlex clients behind one interface (`MetadataClient`).

`bot.metadata.fetch.fetch_papers` is what adapters call: it answers from the knowledge base when it can,
asks the API otherwise, and stores the results through the engine.
"""

from bot.metadata.arxiv import ArxivClient
from bot.metadata.base import MetadataClient
from bot.metadata.errors import (
    MetadataConnectionError,
    MetadataError,
    MetadataHTTPError,
    MetadataRateLimited,
    MetadataRequestError,
    MetadataResponseError,
    MetadataTimeout,
)
from bot.metadata.http import LocalSlots, SlotReserver
from bot.metadata.openalex import OpenAlexClient
from bot.metadata.semantic_scholar import SemanticScholarClient

__all__ = [
    "ArxivClient",
    "LocalSlots",
    "MetadataClient",
    "MetadataConnectionError",
    "MetadataError",
    "MetadataHTTPError",
    "MetadataRateLimited",
    "MetadataRequestError",
    "MetadataResponseError",
    "MetadataTimeout",
    "OpenAlexClient",
    "SemanticScholarClient",
    "SlotReserver",
]
