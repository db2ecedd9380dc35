"""French business-day calendar: jours ouvrés / ouvrables, holidays, business hours.

The configuration (`CalendarConfig`, a pydantic model) is in ``config.py``; the public
calendar (`BusinessCalendar`, which checks every argument) in ``engine.py``; its kernel
(`CalendarKernel`: the tables and the arithmetic, for values already checked, reached as
``calendar.kernel``; compiled in the opt-in compiled build) in ``kernel.py``. They are
re-exported here, the names to import.

This module only does dates; it knows nothing of states or workflows. Holidays
come from the ``holidays`` package (France and its subdivisions, French names),
Easter from ``python-dateutil``. Every datetime in and out is timezone-aware: a
naive one is refused with :class:`~etatmachine.errors.NaiveDatetimeError`
because a deadline without a timezone is ambiguous twice a year.

Semantics, decided once here so every caller gets the same answers:

* **Business days** -- ``ouvres`` (default): Monday-Friday minus public
  holidays; ``ouvrables``: Monday-Saturday minus public holidays.
* **Adding business days** follows numpy ``busday_offset(roll="forward")``:
  the start is first rolled forward onto a business day, then moved by ``n``
  business days. So ``n == 0`` on a Saturday gives the Monday, ``+1`` from a
  Saturday gives the Tuesday and ``-1`` from a Saturday gives the Friday. A
  datetime keeps its wall-clock time (calendar timezone) on the resulting day.
* **Business time** is the set of *windows* ``[work_start, work_end)`` of each
  business day, in wall-clock time (whole day ``00:00-24:00`` when ``work_end``
  is None). Its measure is *real elapsed time* (computed in UTC), so
  ``business_time_between`` and ``add_business_hours`` are exact inverses. In
  Europe/Paris the clocks change on a Sunday at 02:00/03:00, outside every
  window for both ouvrés and ouvrables, so business-hour deadlines keep their
  wall-clock time across both changes. In a zone that changes clocks on a
  working day the affected window really lasts 23 h or 25 h.
* A deadline exactly exhausting a window falls at that window's end (e.g.
  ``18:00``, or ``24:00`` i.e. next midnight for whole days), not at the next
  opening: it is the earliest instant at which that much business time passed.
* **Gap / fold** -- a wall-clock time that does not exist (spring-forward gap,
  e.g. 02:30 on the last Sunday of March in Paris) is moved forward to the
  first valid instant (the end of the gap, 03:00). An ambiguous wall-clock time
  (autumn fold) means its first occurrence (``fold=0``).
* **Supported years** -- ``FIRST_YEAR`` (1900) to ``LAST_YEAR`` (2999), inputs and
  results alike: a date outside raises `DateRangeError` (a ``ValueError``) naming the
  argument and the year at fault. Far enough for any claim file, near enough to catch a
  typed ``20234``. Memory stays bounded whatever dates come: the lookup table a calendar
  keeps spans at most ``TABLE_YEARS`` years (a question about far-apart dates builds a
  table for that call only), and at most ``TABLE_YEARS + 16`` years of holidays are kept.
* An argument that is not a date where one is expected (None, text, a ``date`` where
  an instant is needed) raises `ArgumentTypeError` (a ``TypeError``) naming it.
* **Pentecost Monday 2005-2007** -- ``holidays`` omits it in those years (the
  journée de solidarité, loi 2004-626, was worked by default) but it stayed a
  legal public holiday (Code du travail L3133-1); this calendar lists it, like
  every other year. Use ``pentecost_worked=True`` to make it a business day.
"""

from etatmachine.business_calendar.config import CalendarConfig
from etatmachine.business_calendar.engine import (
    FIRST_YEAR,
    LAST_YEAR,
    PARIS,
    TABLE_YEARS,
    BusinessCalendar,
    check_instant,
    require_aware,
)
from etatmachine.business_calendar.kernel import CalendarKernel

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "PARIS",
    "TABLE_YEARS",
    "BusinessCalendar",
    "CalendarConfig",
    "CalendarKernel",
    "check_instant",
    "require_aware",
]
