"""What can go wrong when asking a metadata API, as one hierarchy of errors with messages fit for users.

Every message names the API and says what happened ("arXiv did not answer within 20 s (3 tries)"), so
adapters show `str(error)` as it is and never a traceback.
"""

from __future__ import annotations


class MetadataError(Exception):
    """Base of every metadata-client failure. `api` is the API's display name ("arXiv")."""

    def __init__(self, api: str, message: str) -> None:
        super().__init__(f"{api}: {message}")
        self.api = api
        self.message = message


class MetadataTimeout(MetadataError):
    """The API did not answer in time (connect or read timeout, or the overall deadline passed)."""


class MetadataConnectionError(MetadataError):
    """The API could not be reached (refused, reset, DNS)."""


class MetadataHTTPError(MetadataError):
    """The API answered with an error status (after retries, for those worth retrying)."""

    def __init__(self, api: str, message: str, status: int) -> None:
        super().__init__(api, message)
        self.status = status


class MetadataRateLimited(MetadataHTTPError):
    """The API kept answering 429, or asked us to wait longer than we may."""


class MetadataResponseError(MetadataError):
    """The API answered 200 with something we cannot read: HTML, truncated JSON, bad XML, the wrong shape."""


class MetadataRequestError(MetadataError):
    """The API refused the request itself (a malformed id): retrying will not help, rephrasing may."""
