"""How serious a finding is: one ordered scale for the rules, the queue, the HTTP answer and the Reddit threshold.

`Severity.HIGH > Severity.MEDIUM > Severity.LOW > Severity.INFO`. Members are strings ("high" …), so JSON,
YAML and settings read and write them as before; only the ordering is the enum's own, not the alphabet's.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for the least serious (info) up to 3 for high."""
        return _RANK[self]

    # str's own comparisons would order by the alphabet ("high" < "info"): every one is replaced.
    def __lt__(self, other: object) -> bool:
        return self.rank < Severity(other).rank if isinstance(other, str) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self.rank <= Severity(other).rank if isinstance(other, str) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self.rank > Severity(other).rank if isinstance(other, str) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self.rank >= Severity(other).rank if isinstance(other, str) else NotImplemented

    __hash__ = str.__hash__

    @classmethod
    def highest(cls, values: Iterable[str]) -> Severity | None:
        """The most serious of `values`, None when there are none."""
        return max((cls(v) for v in values), default=None)


_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}
