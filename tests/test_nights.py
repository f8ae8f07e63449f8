"""The nights a run processes, one value (receivables.nights), and the one place they are split into runs."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receivables.errors import ReceivablesError
from receivables.nights import Nights, runs_of
from receivables.settings import Settings

pytestmark = pytest.mark.unit


def test_a_night_and_a_range_read_and_write_the_same() -> None:
    night = Nights.of(date(2026, 1, 31))
    assert (str(night), len(night), list(night)) == ("2026-01-31", 1, [date(2026, 1, 31)])
    month = Nights.of(date(2026, 1, 1), date(2026, 1, 31))
    assert str(month) == "2026-01-01..2026-01-31" and len(month) == 31
    assert next(iter(month)) == month.first and list(month)[-1] == month.last
    assert month.describe() == "the 31 nights from 2026-01-01 to 2026-01-31"
    assert Nights.parse(str(month)) == month and Nights.parse(str(night)) == night


@pytest.mark.parametrize("text", ["2026-13-01", "2026-01-01..", "yesterday", "2026-01-02..2026-01-01"])
def test_a_night_that_is_no_night_is_refused_with_what_was_found(text: str) -> None:
    with pytest.raises(ReceivablesError, match=r"2026-01-01 .*before|expected a night"):
        Nights.parse(text)


def test_the_last_night_cannot_come_before_the_first() -> None:
    with pytest.raises(ReceivablesError, match="the last night 2026-01-01 is before the first 2026-01-02"):
        Nights.of(date(2026, 1, 2), date(2026, 1, 1))


def test_dates_are_split_into_runs_of_consecutive_nights() -> None:
    days = [date(2025, 12, d) for d in (10, 1, 2, 3, 4, 5, 7, 8, 5)]  # out of order, one twice
    assert runs_of(days) == [
        Nights(date(2025, 12, 1), date(2025, 12, 5)), Nights(date(2025, 12, 7), date(2025, 12, 8)),
        Nights.of(date(2025, 12, 10)),
    ]  # fmt: skip
    assert runs_of(days, 2) == [
        Nights(date(2025, 12, 1), date(2025, 12, 2)), Nights(date(2025, 12, 3), date(2025, 12, 4)),
        Nights.of(date(2025, 12, 5)), Nights(date(2025, 12, 7), date(2025, 12, 8)), Nights.of(date(2025, 12, 10)),
    ]  # fmt: skip
    assert runs_of(days, 1) == [Nights.of(day) for day in sorted(set(days))]
    assert runs_of(Nights.of(date(2025, 12, 1), date(2025, 12, 30)), 10) == [
        Nights(date(2025, 12, 1), date(2025, 12, 10)), Nights(date(2025, 12, 11), date(2025, 12, 20)),
        Nights(date(2025, 12, 21), date(2025, 12, 30)),
    ]  # fmt: skip
    assert runs_of([]) == []


@given(
    st.lists(st.integers(min_value=0, max_value=60), max_size=40),
    st.one_of(st.none(), st.integers(min_value=1, max_value=12)),
)
def test_runs_cover_every_date_once_in_order_and_no_run_is_longer_than_asked(
    offsets: list[int], most: int | None
) -> None:
    days = [date(2026, 1, 1) + timedelta(days=offset) for offset in offsets]
    runs = runs_of(days, most)
    assert [day for run in runs for day in run] == sorted(set(days))
    assert all(most is None or len(run) <= most for run in runs)
    # two runs side by side are apart, or the first is full
    assert all((b.first - a.last).days > 1 or len(a) == most for a, b in pairwise(runs))


def test_a_command_s_options_replace_the_environment_s_settings() -> None:
    from pathlib import Path

    environment = Settings({"RECEIVABLES_SERVING": "/srv/w.duckdb", "RECEIVABLES_LANDING": "/env/landing"})
    chosen = environment.given(landing=Path("/opt/landing"), serving=None)
    assert chosen.landing == Path("/opt/landing") and chosen.text("serving") is None
    assert environment.given(warehouse=Path("/w.duckdb")).serving == Path("/srv/w.duckdb")
