"""Assertions shared by several test files."""

from __future__ import annotations

from datetime import datetime


def same_datetime(got: datetime, want: datetime) -> None:
    """Identical results: instant, wall clock, tzinfo object, fold and type."""
    assert got == want
    assert got.replace(tzinfo=None) == want.replace(tzinfo=None)
    assert got.tzinfo is want.tzinfo
    assert got.fold == want.fold
    assert type(got) is type(want)
