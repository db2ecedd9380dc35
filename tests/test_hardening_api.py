"""Every public entry point refuses bad input with the library's own error, naming it.

Each case of issue 14's "API input" and "Time and size" sections, and each lenient point it
asked to settle, as a row: the exact error type, and the argument it names.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
import weakref
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etatmachine import (
    Actor,
    Dossier,
    EtatmachineError,
    MoveRefused,
    NaiveDatetimeError,
    Role,
    UnknownStateError,
    VersionConflict,
    Workflow,
    resolve,
)
from etatmachine.business_calendar import (
    FIRST_YEAR,
    LAST_YEAR,
    PARIS,
    TABLE_YEARS,
    BusinessCalendar,
)
from etatmachine.errors import ArgumentTypeError, ArgumentValueError, DateRangeError
from etatmachine.rules import as_percent, as_week

WF = Workflow.default()
HANDLER = Actor(role=Role.CASE_HANDLER, id="7")
AT = datetime(2024, 3, 4, 9, tzinfo=PARIS)
LATER = AT + timedelta(hours=1)


def _dossier(state: str = "contact_client_devis") -> Dossier:
    return WF.open("D-1", state, actor=HANDLER, at=AT, mid_flow=True).dossier


def _error(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> BaseException:
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is asserted exactly
        fn(*args, **kwargs)
    return info.value


def _calls(**bad: Any) -> list[Any]:
    """Every entry point with ``bad`` arguments (the others valid)."""
    d = _dossier()
    args = {"actor": HANDLER, "at": LATER} | bad
    return [
        pytest.param(lambda: WF.open("D-9", **args), id="open"),
        pytest.param(lambda: WF.move(d, "etude_devis", **args), id="move"),
        pytest.param(lambda: WF.record(d, "etude_devis", **args), id="record"),
        pytest.param(lambda: WF.explain(d, "etude_devis", **args), id="explain"),
        pytest.param(lambda: WF.allowed_moves(d, **args), id="allowed_moves"),
        pytest.param(lambda: WF.reschedule(d, LATER + timedelta(days=1), **args), id="reschedule"),
        pytest.param(lambda: WF.record_contact_attempt(d, **args), id="contact_attempt"),
    ]


# --- actors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [*_calls(actor=None), *_calls(actor="bob"), *_calls(actor={"role": "contractor", "id": "1"})],
)
def test_actor_that_is_not_an_actor(call: Callable[[], Any]) -> None:
    """An actor None, "bob" or a dict, at every entry point: ArgumentTypeError naming actor."""
    err = _error(call)
    assert type(err) is ArgumentTypeError and isinstance(err, TypeError)
    assert isinstance(err, EtatmachineError) and err.argument == "actor"
    assert str(err).startswith("actor must be an Actor, got ")


# --- instants -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call", [*_calls(at=None), *_calls(at="2024-03-04T09:00+01:00"), *_calls(at=date(2024, 3, 4))]
)
def test_at_that_is_not_a_datetime(call: Callable[[], Any]) -> None:
    """``at`` as None, a string or a date, everywhere: ArgumentTypeError naming at."""
    err = _error(call)
    assert type(err) is ArgumentTypeError and err.argument == "at"
    assert str(err).startswith("at must be a timezone-aware datetime, got ")


@pytest.mark.parametrize("due", [None, "2024-03-05", date(2024, 3, 5)], ids=["none", "str", "date"])
def test_due_that_is_not_a_datetime(due: Any) -> None:
    """``due`` as a string or a date in move, or None in reschedule: ArgumentTypeError due."""
    d = _dossier()
    if due is None:
        err = _error(WF.reschedule, d, due, actor=HANDLER, at=LATER)
    else:
        err = _error(WF.move, d, "attente_cie", actor=HANDLER, at=LATER, comment="c", due=due)
    assert type(err) is ArgumentTypeError and err.argument == "due"


@pytest.mark.parametrize(
    ("call", "argument", "year"),
    [
        (lambda: WF.open("D-9", actor=HANDLER, at=datetime(9999, 1, 4, tzinfo=PARIS)), "at", 9999),
        (
            lambda: WF.move(_dossier(), "etude_devis", actor=HANDLER, at=AT.replace(year=9998)),
            "at",
            9998,
        ),
        (
            lambda: WF.move(
                _dossier(),
                "attente_cie",
                actor=HANDLER,
                at=LATER,
                comment="c",
                due=AT.replace(year=9000),
            ),
            "due",
            9000,
        ),
        (
            lambda: WF.record(_dossier(), "etude_devis", actor=HANDLER, at=AT.replace(year=3000)),
            "at",
            3000,
        ),
        (
            lambda: WF.open("D-9", actor=HANDLER, at=datetime(1899, 12, 31, tzinfo=PARIS)),
            "at",
            1899,
        ),
        (lambda: BusinessCalendar().add_business_days(AT.replace(year=9999), 3), "start", 9999),
        (lambda: BusinessCalendar().holidays(10_000), "year", 10_000),
    ],
    ids=["open-9999", "move-9998", "due-9000", "record-3000", "open-1899", "calendar", "holidays"],
)
def test_year_outside_the_supported_range(
    call: Callable[[], Any], argument: str, year: int
) -> None:
    """A year outside 1900-2999 (9998, 9999, 9000, 1899...) in move, open, record, a due date
    or the calendar: DateRangeError (a ValueError) naming the argument and the right year."""
    err = _error(call)
    assert type(err) is DateRangeError and isinstance(err, ValueError)
    assert (err.argument, err.year) == (argument, year)
    assert f"year {year} is outside the supported range {FIRST_YEAR}-{LAST_YEAR}" in str(err)


def test_due_date_computed_past_the_last_year_names_that_year() -> None:
    """A due date that would fall in 3000 (a move on 2999-12-31): DateRangeError naming 3000."""
    err = _error(WF.open, "D-9", actor=HANDLER, at=datetime(2999, 12, 31, 12, tzinfo=PARIS))
    assert type(err) is DateRangeError and err.year == 3000


def test_calendar_memory_stays_bounded_whatever_dates_come() -> None:
    """Dates in 1900 and 2999 on one calendar: no table from the earliest to the latest year
    (it stays well under 5 MB, where the contiguous table took hundreds), and answers stay
    right."""
    cal = BusinessCalendar()
    tracemalloc.start()
    try:
        for year in (2024, 1901, 2998, 2024, 1950, 2990):
            start = datetime(year, 3, 4, 9, tzinfo=PARIS)
            assert cal.add_business_days(start, 5) > start
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current < 5_000_000
    assert TABLE_YEARS <= 200
    assert cal.add_business_days(date(2024, 12, 24), 1) == date(2024, 12, 26)


def test_a_four_line_history_with_a_far_year_stays_fast() -> None:
    """A file moved in 2024 then in 2990: each move answers without a table spanning both."""
    d = _dossier()
    far = AT.replace(year=2990)
    started = time.perf_counter()
    moved, _ = WF.record(d, "etude_devis", actor=HANDLER, at=far)
    moved2, _ = WF.record(
        moved.dossier, "devis_demande_info", actor=HANDLER, at=far + timedelta(hours=1)
    )
    assert moved2.dossier.version == 2
    assert time.perf_counter() - started < 10  # the contiguous table took 3.9 s for 9000


# --- labels ---------------------------------------------------------------------------------


@pytest.mark.parametrize("label", [None, 3, b"etude_devis"], ids=["none", "int", "bytes"])
def test_label_that_is_not_text(label: Any) -> None:
    """A label None, an int or bytes to move, resolve, Workflow.state and open:
    ArgumentTypeError naming the argument (to, state, label)."""
    calls = [
        (lambda: WF.move(_dossier(), label, actor=HANDLER, at=LATER), "to"),
        (lambda: resolve(label), "label"),
        (lambda: WF.state(label), "label"),
    ]
    if label is not None:  # open's state=None means the first initial state
        calls.append((lambda: WF.open("D-9", label, actor=HANDLER, at=AT), "state"))
    for call, argument in calls:
        err = _error(call)
        assert type(err) is ArgumentTypeError and err.argument == argument


def test_label_resolution_is_linear() -> None:
    """``"PT - " * 400_000 + "Etude de devis"`` (2 MB) resolves at once (the quadratic
    resolution took 4.9 s for a quarter of it); an unknown 10 MB label is refused, and its
    error does not quote it whole."""
    started = time.perf_counter()
    assert resolve("PT - " * 400_000 + "Etude de devis").code == "etude_devis"
    err = _error(resolve, "x" * 10_000_000)
    assert time.perf_counter() - started < 20
    assert type(err) is UnknownStateError and len(str(err)) < 300


class _Label(str):
    """A str that a weak reference can watch (plain str cannot be weakly referenced)."""


def test_the_resolve_cache_keeps_no_long_label() -> None:
    """A 1 MB label through Workflow.state resolves and is not kept (the cache is keyed on
    bounded text only); a short one is kept, so the check can tell."""
    wf = Workflow(WF.catalogue)
    long_label = _Label("PT - " * 200_000 + "Etude de devis")
    short_label = _Label("PT - Etude de devis")
    watch_long, watch_short = weakref.ref(long_label), weakref.ref(short_label)
    assert wf.state(long_label).code == wf.state(short_label).code == "etude_devis"
    del long_label, short_label
    gc.collect()
    assert watch_long() is None and watch_short() is not None


# --- comments, data, flags ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "error", "target"),
    [
        (123, ArgumentTypeError, "etude_devis"),
        (b"bytes", ArgumentTypeError, "etude_devis"),
        ("lone \ud800 surrogate", ArgumentValueError, "etude_devis"),
        (123, ArgumentTypeError, "attente_cie"),
    ],
    ids=["int", "bytes", "surrogate", "int-on-a-wait"],
)
def test_bad_comment(comment: Any, error: type[Exception], target: str) -> None:
    """A comment 123, bytes or with a lone surrogate (on a move or a wait), in move, record
    and contact attempts: the library's TypeError/ValueError naming comment."""
    d = _dossier()
    for call in (
        lambda: WF.move(d, target, actor=HANDLER, at=LATER, comment=comment),
        lambda: WF.record(d, target, actor=HANDLER, at=LATER, comment=comment),
        lambda: WF.record_contact_attempt(d, actor=HANDLER, at=LATER, comment=comment),
    ):
        err = _error(call)
        assert type(err) is error and err.argument == "comment"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "error", "argument"),
    [
        (["humidity", 50], ArgumentTypeError, "data"),
        ("humidity=50", ArgumentTypeError, "data"),
        ({1: "x"}, ArgumentTypeError, "data key"),
        ({"humidity": 10**5000}, ArgumentValueError, "data['humidity']"),
        ({"note": "\udfff"}, ArgumentValueError, "data['note']"),
        ({"note": [1, 2]}, ArgumentTypeError, "data['note']"),
        ({"note": date(2024, 3, 4)}, ArgumentTypeError, "data['note']"),
        (
            {"appointment_at": datetime(9999, 1, 1, tzinfo=PARIS)},
            DateRangeError,
            "data['appointment_at']",
        ),
    ],
    ids=[
        "list",
        "str",
        "int-key",
        "huge-int",
        "surrogate",
        "list-value",
        "date-value",
        "year-9999",
    ],
)
def test_bad_data(data: Any, error: type[Exception], argument: str) -> None:
    """Data as a list or a string, a non-text key, 10**5000, a lone surrogate, a list or a
    date as a value, a year-9999 datetime: the library's error naming the datum."""
    for call in (
        lambda: WF.move(
            _dossier(), "attente_sechage", actor=HANDLER, at=LATER, comment="c", data=data
        ),
        lambda: WF.open("D-9", actor=HANDLER, at=AT, data=data),
    ):
        err = _error(call)
        assert type(err) is error and err.argument == argument  # type: ignore[attr-defined]


def test_huge_humidity_reaches_the_rules_without_overflow() -> None:
    """Humidity 10**5000 given to the data coercion itself: a reason, not an OverflowError."""
    assert as_percent(10**5000) == "must be between 0 and 100, got a huge number"
    assert as_week(10**5000) == "week must be between 1 and 53, got 'a huge number'"
    assert as_week("١٤") == "not an ISO week: '١٤'"


@pytest.mark.parametrize("humidity", ["1_0", "٥٠", " 5e1 ", "50%", "nan"])
def test_humidity_text_must_be_plain_decimal(humidity: str) -> None:
    """Humidity "1_0", "٥٠", " 5e1 ", "50%" or "nan" (all read by float()): refused as
    data_required, never read as a number."""
    err = _error(
        WF.move,
        _dossier(),
        "attente_sechage",
        actor=HANDLER,
        at=LATER,
        comment="TH",
        data={"humidity": humidity},
    )
    assert type(err) is MoveRefused and err.rules == ("data_required",)
    assert f"not a number: {humidity!r}" in str(err)


@pytest.mark.parametrize(("humidity", "rate"), [("55", 55.0), (" 55.5 ", 55.5), ("55,5", 55.5)])
def test_humidity_text_in_decimal_is_accepted(humidity: str, rate: float) -> None:
    """Humidity "55", " 55.5 " or "55,5" (French decimal comma): accepted, kept as written."""
    assert as_percent(humidity) == rate
    moved = WF.move(
        _dossier(),
        "attente_sechage",
        actor=HANDLER,
        at=LATER,
        comment="TH",
        due=LATER + timedelta(days=7),
        data={"humidity": humidity},
    ).dossier
    assert moved.history[-1].data["humidity"] == humidity


def test_flags_as_one_string_is_refused() -> None:
    """``flags="vip"`` (once stored as {'v', 'i', 'p'}): ArgumentTypeError naming flags; a
    list of flags is fine; a non-text flag is refused."""
    err = _error(WF.open, "D-9", actor=HANDLER, at=AT, flags="vip")
    assert type(err) is ArgumentTypeError and err.argument == "flags"
    assert WF.open("D-9", actor=HANDLER, at=AT, flags=["vip"]).dossier.flags == {"vip"}
    err = _error(WF.open, "D-9", actor=HANDLER, at=AT, flags=[1])
    assert type(err) is ArgumentTypeError and err.argument == "flags item"


@pytest.mark.parametrize("comment", ["\u200b", "\u200b\u2060\ufeff", " \t\n", "\u3000"])
def test_invisible_comment_does_not_justify_a_wait(comment: str) -> None:
    """A comment of only U+200B (or other invisible characters, or whitespace) is no
    comment: a wait refuses it (comment_required), another move stores None."""
    due = LATER + timedelta(days=3)
    err = _error(
        WF.move, _dossier(), "attente_cie", actor=HANDLER, at=LATER, comment=comment, due=due
    )
    assert type(err) is MoveRefused and err.rules == ("comment_required",)
    moved = WF.move(_dossier(), "etude_devis", actor=HANDLER, at=LATER, comment=comment).dossier
    assert moved.history[-1].comment is None


def test_visible_comment_with_invisible_characters_is_kept_as_written() -> None:
    """A comment with a visible character among invisible ones is kept exactly."""
    comment = "\u200bappel client\u200b"
    due = LATER + timedelta(days=3)
    moved = WF.move(
        _dossier(), "attente_cie", actor=HANDLER, at=LATER, comment=comment, due=due
    ).dossier
    assert moved.history[-1].comment == comment


def test_due_date_and_appointment_in_the_past_are_refused_live_and_reported_in_a_record() -> None:
    """A due date or an appointment at or before the move: a live move is refused
    ``due_in_past`` (nobody can owe a step by a time already gone); a move that already
    happened (`Workflow.record`) is applied and the breach reported, the file late at once."""
    past = AT - timedelta(days=2)
    err = _error(WF.move, _dossier(), "attente_cie", actor=HANDLER, at=LATER, comment="c", due=past)
    assert type(err) is MoveRefused and err.rules == ("due_in_past",)
    err = _error(
        WF.move,
        _dossier(),
        "premiere_visite",
        actor=HANDLER,
        at=LATER,
        data={"appointment_at": past},
    )
    assert type(err) is MoveRefused and err.rules == ("due_in_past",)
    (moved, _), found = WF.record(
        _dossier(), "attente_cie", actor=HANDLER, at=LATER, comment="c", due=past
    )
    assert moved.due_at == past and [v.rule for v in found] == ["due_in_past"]
    assert WF.lateness(moved, at=LATER + timedelta(hours=1)).steps[-1].late


# --- dossiers in unknown states, subdivisions, error classes ------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda d: WF.allowed_moves(d, actor=HANDLER, at=LATER),
        lambda d: WF.record_contact_attempt(d, actor=HANDLER, at=LATER),
        lambda d: WF.reschedule(d, LATER + timedelta(days=1), actor=HANDLER, at=LATER),
        lambda d: WF.move(d, "etude_devis", actor=HANDLER, at=LATER),
    ],
    ids=["allowed_moves", "record_contact_attempt", "reschedule", "move"],
)
def test_dossier_in_a_state_the_catalogue_lacks(call: Callable[[Dossier], Any]) -> None:
    """allowed_moves and record_contact_attempt (like move) on a dossier in an unknown state:
    UnknownStateError with the closest codes, not KeyError."""
    err = _error(call, Dossier(id="D-2", state="nulle_part", due_at=None))
    assert type(err) is UnknownStateError
    assert str(err) == "unknown state 'nulle_part'; closest: attente_expert"


def test_not_a_dossier() -> None:
    """A dict where a dossier is expected: ArgumentTypeError naming dossier."""
    err = _error(WF.move, {"id": "D-1"}, "etude_devis", actor=HANDLER, at=LATER)
    assert type(err) is ArgumentTypeError and err.argument == "dossier"


def test_unknown_subdivision() -> None:
    """``subdivision="zz"`` (open, Workflow.calendar): ArgumentValueError naming subdivision,
    not pydantic's ValidationError; a dict as subdivision: ArgumentTypeError."""
    for call in (
        lambda: WF.open("D-9", actor=HANDLER, at=AT, subdivision="zz"),
        lambda: WF.calendar("zz"),
    ):
        err = _error(call)
        assert type(err) is ArgumentValueError and err.argument == "subdivision"
        assert "unknown subdivision 'zz'" in str(err)
    err = _error(WF.open, "D-9", actor=HANDLER, at=AT, subdivision={"zz": 1})
    assert type(err) is ArgumentTypeError and err.argument == "subdivision"


@pytest.mark.parametrize(
    ("field", "value"),
    [("insurer", 1), ("channel", b"sinapps"), ("contractor", ["x"]), ("dossier_id", None)],
)
def test_bad_file_attributes(field: str, value: Any) -> None:
    """An insurer, channel, contractor or dossier id that is not text: ArgumentTypeError."""
    kwargs: dict[str, Any] = {"actor": HANDLER, "at": AT}
    if field == "dossier_id":
        err = _error(WF.open, value, **kwargs)
    else:
        err = _error(WF.open, "D-9", **kwargs, **{field: value})
    assert type(err) is ArgumentTypeError and err.argument == field


def test_error_classes_subclass_the_nearest_builtin() -> None:
    """MoveRefused is a ValueError (the move is not valid now); VersionConflict a
    RuntimeError (nothing passed was wrong: the store changed; retrying may succeed)."""
    err = _error(WF.move, _dossier(), "attente_cie", actor=HANDLER, at=LATER)
    assert type(err) is MoveRefused and isinstance(err, ValueError)
    conflict = VersionConflict("D-1", 1, 2)
    assert isinstance(conflict, RuntimeError) and not isinstance(conflict, ValueError)
    assert issubclass(NaiveDatetimeError, ValueError)
    assert issubclass(DateRangeError, ArgumentValueError)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("insurer", 1, ArgumentTypeError),
        ("channel", b"sinapps", ArgumentTypeError),
        ("contractor", ["x"], ArgumentTypeError),
        ("subdivision", "zz", ArgumentValueError),
        ("flags", "vip", ArgumentTypeError),
        ("autonomy_limit", "beaucoup", ArgumentValueError),
        ("autonomy_limit", -1, ArgumentValueError),
    ],
)
def test_file_attributes_are_checked_as_open_checks_them(
    field: str, value: Any, error: type[Exception]
) -> None:
    """`Workflow.file_attributes` raises what `open` raises for the same attribute."""
    from_open = _error(WF.open, "D-9", actor=HANDLER, at=AT, **{field: value})
    from_attributes = _error(WF.file_attributes, **{field: value})
    assert type(from_open) is type(from_attributes) is error
    assert from_attributes.argument == from_open.argument == field  # type: ignore[attr-defined]


def test_file_attributes_give_what_open_stores() -> None:
    attributes = WF.file_attributes(
        insurer="AZ", subdivision="57", flags=["vip"], autonomy_limit="1 550,00"
    )
    assert attributes.flags == frozenset({"vip"})
    assert attributes.autonomy_limit == Decimal("1550.00")
    opened, _ = WF.open("D-9", actor=HANDLER, at=AT, **attributes._asdict())
    assert (opened.insurer, opened.subdivision, opened.flags, opened.autonomy_limit) == (
        "ALLIANZ",
        "57",
        attributes.flags,
        attributes.autonomy_limit,
    )


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from([" ", "a", "é", "\u0301", "\u20dd", "\u200b", "\xa0", "\u2028", "\t"])
        | st.sampled_from(["\ud800", "€", "\u3000", "\u00ad", "\u0000"])
        | st.characters(),
        max_size=6,
    ).map("".join)
)
def test_a_comment_is_kept_dropped_or_refused_as_the_module_says(comment: str) -> None:
    """Any text: refused when it cannot be stored, None when nothing in it is visible, else
    kept as given (the fast paths agree with `text_problem` and `is_blank`)."""
    from etatmachine.arguments import check_comment, is_blank
    from etatmachine.dossier import text_problem

    if text_problem(comment) is not None:
        with pytest.raises(ArgumentValueError):
            check_comment(comment)
    else:
        assert check_comment(comment) == (None if is_blank(comment) else comment)
