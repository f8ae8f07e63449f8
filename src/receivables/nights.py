"""The nights a run processes, as one value: an as-of date, or a range of consecutive ones.

The nightly DAG computes its night once (its ``plan`` task) and the CLI from
``--as-of`` and ``--to``; every step of the pipeline (``receivables.nightly``)
takes the value. Nights are split into dbt runs here and nowhere else
(``runs_of``): consecutive dates, at most ``RECEIVABLES_BUILD_RANGE_DATES``
each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from receivables.errors import ReceivablesError

RANGE = ".."  # between the first and the last night, as ``str`` writes a range and ``parse`` reads it


@dataclass(frozen=True, order=True)
class Nights:
    """The as-of dates from ``first`` to ``last``, both included (one night: the same date twice)."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ReceivablesError(
                f"the last night {self.last} is before the first {self.first} (--to before --as-of)"
            )

    @classmethod
    def of(cls, first: date, last: date | None = None) -> Nights:
        return cls(first, first if last is None else last)

    @classmethod
    def parse(cls, text: str) -> Nights:
        """``2026-01-31`` or ``2026-01-01..2026-01-31``, as ``str`` writes them."""
        first, between, last = text.strip().partition(RANGE)
        try:
            return cls.of(date.fromisoformat(first), date.fromisoformat(last) if between else None)
        except ValueError:
            raise ReceivablesError(
                f"expected a night as YYYY-MM-DD or a range as YYYY-MM-DD{RANGE}YYYY-MM-DD, found {text!r}"
            ) from None

    def __str__(self) -> str:
        return self.first.isoformat() if self.first == self.last else f"{self.first}{RANGE}{self.last}"

    def __len__(self) -> int:
        return (self.last - self.first).days + 1

    def __iter__(self) -> Iterator[date]:
        return (self.first + timedelta(days=offset) for offset in range(len(self)))

    def describe(self) -> str:
        """For people: "2026-01-31", or "the 31 nights from 2026-01-01 to 2026-01-31"."""
        if len(self) == 1:
            return str(self)
        return f"the {len(self)} nights from {self.first} to {self.last}"


def runs_of(days: Iterable[date], most: int | None = None) -> list[Nights]:
    """Dates, in order and once each, as runs of consecutive nights of at most ``most`` nights each."""
    runs: list[Nights] = []
    for day in sorted(set(days)):
        if runs and (day - runs[-1].last).days == 1 and (most is None or len(runs[-1]) < most):
            runs[-1] = Nights(runs[-1].first, day)
        else:
            runs.append(Nights.of(day))
    return runs
