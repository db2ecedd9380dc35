"""The business calendar's kernel: lookup tables of business days and time, and the
arithmetic over them, for values already checked (see `etatmachine.business_calendar` for
the semantics).

`etatmachine.business_calendar.engine.BusinessCalendar` is the public facade: it checks
every argument (errors naming it), then asks its `CalendarKernel` (``calendar.kernel``).
Code that holds checked values -- the due dates and lateness the judge and the replay
compute (`etatmachine.deadlines`, `etatmachine.lateness.steps`) -- asks the kernel
directly, skipping the checks and, in the opt-in compiled build (which compiles this
module), every interpreted frame. The kernel checks nothing its annotations do not say: a
datetime it is given is aware, in the kernel's timezone (`CalendarKernel.tz`) and within
the supported years -- `CalendarKernel.accepts` tells, the facade's checks make it so -- and
a subdivision is one `CalendarConfig` validated. What it still raises is `DateRangeError`
for an answer outside the supported years.

It holds no pydantic model (mypyc cannot build one) and imports ``holidays`` only when it
first needs a year's holidays.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, cast, final
from zoneinfo import ZoneInfo

from dateutil.easter import easter

from etatmachine.business_calendar.config import CalendarConfig
from etatmachine.errors import DateRangeError

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "TABLE_YEARS",
    "CalendarKernel",
    "Shift",
    "Table",
    "hours_us",
    "timedelta_us",
]

_UTC: Final = UTC
_DAY_US: Final = 86_400_000_000
_MEMO_MAX: Final = 1 << 16  # bound on each calendar's (day, delta) -> shift memo
_PENTECOST_NAME: Final = "Lundi de Pentecôte"
_SOLIDARITY_FIRST: Final = 2005  # Pentecost Monday 2005-2007: see the package's semantics
_SOLIDARITY_LAST: Final = 2007
FIRST_YEAR: Final = 1900
"""The first year a calendar answers for (see the package: supported years)."""
LAST_YEAR: Final = 2999
"""The last year a calendar answers for."""
TABLE_YEARS: Final = 120
"""The most years a calendar's kept lookup table spans (wider questions: a table per call)."""


def _out_of_range(what: str, value: object, year: int) -> DateRangeError:
    return DateRangeError(what, value, year, FIRST_YEAR, LAST_YEAR)


def _holiday_names(subdivision: str | None, year: int) -> dict[date, str]:
    """``year``'s public holidays from the ``holidays`` package, French names (imported on
    first use: importing the calendar stays cheap)."""
    from holidays.countries.france import France

    factory = cast("Callable[..., Mapping[date, object]]", France)
    source = factory(subdiv=subdivision, years=year, language="fr")
    return {d: str(name) for d, name in source.items()}


@final
class _Year:
    """One year's facts, computed once: holidays and business-day ordinals."""

    __slots__ = ("holidays", "odd_days", "odd_lengths", "ords")

    holidays: dict[date, str]
    ords: list[int]
    odd_lengths: dict[int, int]  # business-day ordinal -> window µs, only where != nominal
    odd_days: frozenset[int]  # ordinals near a UTC-offset change (handled exactly)

    def __init__(
        self,
        holidays: dict[date, str],
        ords: list[int],
        odd_lengths: dict[int, int],
        odd_days: frozenset[int],
    ) -> None:
        self.holidays = holidays
        self.ords = ords
        self.odd_lengths = odd_lengths
        self.odd_days = odd_days


@final
class Table:
    """Lookup tables over a contiguous range of years, never changed once built (so they
    are published to readers without a lock).

    ``cnt[o - base]`` is the number of business days before ordinal ``o`` (so the index of
    the first business day on or after ``o``); ``ords`` the business-day ordinals;
    ``cum[i]`` the business time (µs) of the business days before index ``i``;
    ``odd_days`` the ordinals whose local day holds a UTC-offset change. It covers the
    ordinals ``base <= o < end``, the years ``first`` to ``last``.
    """

    __slots__ = ("base", "cnt", "cum", "end", "first", "last", "odd_days", "ords")

    first: int
    last: int
    base: int
    end: int
    ords: list[int]
    cnt: list[int]
    cum: list[int]
    odd_days: frozenset[int]

    def __init__(
        self,
        first: int,
        last: int,
        base: int,
        end: int,
        ords: list[int],
        cnt: list[int],
        cum: list[int],
        odd_days: frozenset[int],
    ) -> None:
        self.first = first
        self.last = last
        self.base = base
        self.end = end
        self.ords = ords
        self.cnt = cnt
        self.cum = cum
        self.odd_days = odd_days


# shift_memo's key for (ordinal o, delta µs): delta * _ORDINALS + o, one int for the pair
# (a tuple key costs an allocation and a tuple hash per call); exact since 0 < o < _ORDINALS.
_ORDINALS: Final = 1 << 22  # more than the last ordinal (date.max: 3,652,059)


@final
class Shift:
    """A memoised move (see `CalendarKernel.add_us`): a start whose wall clock (µs since
    local midnight) is strictly between ``lo`` and ``hi`` lands at ``start + by``."""

    __slots__ = ("by", "hi", "lo")

    lo: int
    hi: int
    by: timedelta

    def __init__(self, lo: int, hi: int, by: timedelta) -> None:
        self.lo = lo
        self.hi = hi
        self.by = by

    def __repr__(self) -> str:
        return f"Shift({self.lo}, {self.hi}, {self.by!r})"


@final
class CalendarKernel:
    """The tables and arithmetic of one `CalendarConfig`; thread-safe.

    Tables are built lazily, one year at a time, under a lock and published as immutable
    objects, so readers never lock. Every method takes checked values (see the module):
    ordinals and dates within the supported years, datetimes that `accepts` accepts.
    """

    __slots__ = (
        "_lock",
        "_maxwd",
        "_nominal_us",
        "_pentecost_worked",
        "_start_delta",
        "_start_us",
        "_subdivision",
        "_work_end",
        "_years",
        "config",
        "shift_memo",
        "table",
        "tz",
    )

    config: CalendarConfig
    """The (frozen) configuration it answers for."""
    tz: ZoneInfo
    """The calendar's timezone: results are in it, and datetimes it is given must be."""
    table: Table | None
    """The kept lookup table (None until the first question)."""
    shift_memo: dict[int, Shift]
    """``delta * 2**22 + ordinal`` (a start's day and the µs it moves) -> `Shift`: a start on
    that day whose wall clock is strictly inside (lo, hi) lands at ``start + shift.by``
    (see `add_us`)."""
    _lock: threading.Lock
    _years: dict[int, _Year]
    _maxwd: int
    _nominal_us: int
    _start_us: int
    _start_delta: timedelta
    _work_end: time | None
    _subdivision: str | None
    _pentecost_worked: bool

    def __init__(self, config: CalendarConfig) -> None:
        self.config = config
        self.tz = ZoneInfo(config.timezone)
        self._lock = threading.Lock()
        self._years = {}
        self.table = None
        self._maxwd = 5 if config.working_days == "ouvres" else 6
        self._subdivision = config.subdivision
        self._pentecost_worked = config.pentecost_worked
        end = config.work_end
        self._work_end = end
        start_us = _time_us(config.work_start)
        end_us = _DAY_US if end is None else _time_us(end)
        self._nominal_us = end_us - start_us
        self._start_us = start_us
        self._start_delta = timedelta(microseconds=start_us)
        self.shift_memo = {}

    def __repr__(self) -> str:
        return f"CalendarKernel({self.config!r})"

    def accepts(self, value: datetime) -> bool:
        """True if ``value`` is what the kernel takes as it is: a ``datetime`` (not a
        subclass) in the kernel's tzinfo, within the supported years -- exactly the values
        the facade's checks pass unchanged."""
        return (
            type(value) is datetime
            and value.tzinfo is self.tz
            and FIRST_YEAR <= value.year <= LAST_YEAR
        )

    # ------------------------------------------------------------------ tables

    def holidays(self, year: int) -> dict[date, str]:
        """Public holidays observed as days off in ``year`` (a copy), by date, French names."""
        with self._lock:
            return dict(self._year(year).holidays)

    def _build_year(self, year: int) -> _Year:
        hol = _holiday_names(self._subdivision, year)
        pentecost = easter(year) + timedelta(days=50)
        if _SOLIDARITY_FIRST <= year <= _SOLIDARITY_LAST:
            hol.setdefault(pentecost, _PENTECOST_NAME)  # still a legal holiday (L3133-1)
        if self._pentecost_worked:
            hol.pop(pentecost, None)
        hol = dict(sorted(hol.items()))
        start = date(year, 1, 1).toordinal()
        end = date(year + 1, 1, 1).toordinal()
        off = {d.toordinal() for d in hol}
        maxwd = self._maxwd
        ords = [o for o in range(start, end) if (o - 1) % 7 < maxwd and o not in off]
        odd = self._offset_change_days(start, end)
        lengths: dict[int, int] = {}
        for o in sorted(odd.intersection(ords)):
            ws, we = self.window_exact(o)
            length = timedelta_us(we - ws)
            if length != self._nominal_us:
                lengths[o] = length
        return _Year(hol, ords, lengths, frozenset(odd))

    def _midnight_offset(self, o: int) -> timedelta | None:
        return datetime.fromordinal(o).replace(tzinfo=self.tz).utcoffset()

    def _offset_change_days(self, start: int, end: int) -> set[int]:
        """Ordinals whose local day holds a UTC-offset change (a gap, a fold, or both ends).

        Day ``d`` is marked when the offsets read at its local midnight and the next one
        (``fold=0``) differ; unmarked days have one offset throughout, so plain wall-clock
        arithmetic is exact on them.
        """
        step = 4  # sampled every 4 days: tzdata has no change-and-back within 4 days
        found: set[int] = set()
        samples = [*range(start, end, step), end]
        prev_o = samples[0]
        prev_off = self._midnight_offset(prev_o)
        for o in samples[1:]:
            cur = self._midnight_offset(o)
            if cur != prev_off:
                last = prev_off
                for d in range(prev_o, o):
                    nxt = self._midnight_offset(d + 1)
                    if nxt != last:
                        found.add(d)
                    last = nxt
            prev_o = o
            prev_off = cur
        return found

    def _year(self, year: int) -> _Year:
        """One year's facts (call under the lock); at most ``TABLE_YEARS + 16`` are kept."""
        y = self._years.get(year)
        if y is None:
            if len(self._years) >= TABLE_YEARS + 16:
                del self._years[next(iter(self._years))]  # the oldest built
            y = self._build_year(year)
            self._years[year] = y
        return y

    def cover(self, lo_year: int, hi_year: int) -> Table:
        """A table covering the years [lo_year, hi_year], building what is missing
        (`DateRangeError` naming the year outside the supported ones).

        The kept table grows (by at least its own span, towards the question) to span at
        most ``TABLE_YEARS`` years; past that it is replaced by one around the question, and
        a question wider than that gets a table of its own that is not kept.
        """
        tab = self.table
        if tab is not None and tab.first <= lo_year and hi_year <= tab.last:
            return tab
        if lo_year < FIRST_YEAR:
            raise _out_of_range("date", lo_year, lo_year)
        if hi_year > LAST_YEAR:
            raise _out_of_range("date", hi_year, hi_year)
        with self._lock:
            tab = self.table
            if tab is not None:
                if tab.first <= lo_year and hi_year <= tab.last:
                    return tab
                # grow by at least the kept span, towards the question: dates that walk
                # through the years (one long history) rebuild the table a logarithmic
                # number of times, not once a year over an ever longer span (quadratic)
                span = tab.last - tab.first + 1
                if hi_year > tab.last:
                    hi_year = min(max(hi_year, tab.last + span), LAST_YEAR)
                if lo_year < tab.first:
                    lo_year = max(min(lo_year, tab.first - span), FIRST_YEAR)
                lo = min(lo_year, tab.first)
                hi = max(hi_year, tab.last)
                if hi - lo < TABLE_YEARS:
                    lo_year, hi_year = lo, hi
            tab = self._build_table(lo_year, hi_year)
            if hi_year - lo_year < TABLE_YEARS:
                self.table = tab
            return tab

    def _build_table(self, first: int, last: int) -> Table:
        base = date(first, 1, 1).toordinal()
        end = date(last + 1, 1, 1).toordinal()
        ords: list[int] = []
        odd: set[int] = set()
        lengths: dict[int, int] = {}
        for year in range(first, last + 1):
            y = self._year(year)
            ords.extend(y.ords)
            odd.update(y.odd_days)
            lengths.update(y.odd_lengths)
        cnt = [0] * (end - base + 1)
        i = 0
        n = len(ords)
        for k in range(end - base + 1):
            while i < n and ords[i] < base + k:
                i += 1
            cnt[k] = i
        nominal = self._nominal_us
        if lengths:
            cum = [0] * (n + 1)
            acc = 0
            for j in range(n):
                acc += lengths.get(ords[j], nominal)
                cum[j + 1] = acc
        else:
            cum = list(range(0, (n + 1) * nominal, nominal)) if nominal else [0] * (n + 1)
        return Table(first, last, base, end, ords, cnt, cum, frozenset(odd))

    def cover_ord(self, a: int, b: int) -> Table:
        """A table covering the days of ordinals ``a`` and ``b`` (either order)."""
        tab = self.table
        lo, hi = (a, b) if a <= b else (b, a)
        if tab is not None and tab.base <= lo and hi < tab.end:
            return tab
        return self.cover(date.fromordinal(lo).year, date.fromordinal(hi).year)

    def offset_index(self, o: int, n: int) -> int:
        """Ordinal of the business day ``n`` business days from roll_forward(o)."""
        tab = self.table  # cover_ord(o, o), its common case without a call
        if tab is None or not tab.base <= o < tab.end:
            tab = self.cover_ord(o, o)
        while True:
            i = tab.cnt[o - tab.base] + n
            count = len(tab.ords)
            if 0 <= i < count:
                return tab.ords[i]
            more = (abs(i - count) if i >= 0 else -i) // 200 + 1
            if i >= 0:
                tab = self.cover(tab.first, tab.last + more)
            else:
                tab = self.cover(tab.first - more, tab.last)

    # ------------------------------------------------------------- wall clock

    def localize(self, naive: datetime) -> datetime:
        """Wall-clock time -> aware: gap times move to the gap's end, folds take fold=0."""
        tz = self.tz
        aware = naive.replace(tzinfo=tz, fold=0)
        back = aware.astimezone(_UTC).astimezone(tz)
        if back.replace(tzinfo=None) == naive:
            return aware
        # In a gap: the transition instant lies between the two fold readings.
        a = aware.astimezone(_UTC)
        b = naive.replace(tzinfo=tz, fold=1).astimezone(_UTC)
        lo_ts = math.floor(min(a, b).timestamp())
        hi_ts = math.ceil(max(a, b).timestamp())
        after = datetime.fromtimestamp(hi_ts, tz).utcoffset()
        while hi_ts - lo_ts > 1:  # offsets change on whole seconds in tzdata
            mid = (lo_ts + hi_ts) // 2
            if datetime.fromtimestamp(mid, tz).utcoffset() == after:
                hi_ts = mid
            else:
                lo_ts = mid
        return datetime.fromtimestamp(hi_ts, tz)

    def window_exact(self, o: int) -> tuple[datetime, datetime]:
        """UTC bounds of business day ``o``'s window, gap/fold-aware."""
        day = datetime.fromordinal(o)
        ws = self.localize(day + self._start_delta)
        end = self._work_end
        we_naive = day + timedelta(days=1) if end is None else datetime.combine(day.date(), end)
        return ws.astimezone(_UTC), self.localize(we_naive).astimezone(_UTC)

    def window_start(self, tab: Table, o: int) -> datetime:
        """UTC start of business day ``o``'s window."""
        if o in tab.odd_days:
            return self.window_exact(o)[0]
        naive = datetime.fromordinal(o) + self._start_delta
        off = naive.replace(tzinfo=self.tz).utcoffset()
        assert off is not None
        return (naive - off).replace(tzinfo=_UTC)

    def wall_on(self, local: datetime, o: int, tab: Table | None = None) -> datetime:
        """``local``'s wall-clock time on day ``o`` (same instant if same day)."""
        k = o - local.toordinal()
        if k == 0:
            return local
        if tab is not None and tab.base <= o < tab.end and o not in tab.odd_days:
            return local + timedelta(k)  # same tzinfo: wall-clock arithmetic, fold=0
        return self.localize(local.replace(tzinfo=None, fold=0) + timedelta(k))

    # ---------------------------------------------------------------- days

    def is_business_ordinal(self, o: int) -> bool:
        """True if the day of ordinal ``o`` is a business day."""
        tab = self.table  # cover_ord(o, o), its common case without a call
        if tab is None or not tab.base <= o < tab.end:
            tab = self.cover_ord(o, o)
        i = tab.cnt[o - tab.base]
        return i < len(tab.ords) and tab.ords[i] == o

    def business_days_between(self, oa: int, ob: int) -> int:
        """Business days in ``[oa, ob)`` (ordinals), or minus those in ``[ob, oa)``."""
        tab = self.cover_ord(oa, ob)
        return tab.cnt[ob - tab.base] - tab.cnt[oa - tab.base]

    def add_business_days(self, local: datetime, n: int) -> datetime:
        """``n`` business days from roll_forward(``local``), at ``local``'s wall clock."""
        r = self.offset_index(local.toordinal(), n)
        return self.wall_on(local, r, self.table)

    def add_calendar_days_rolled(self, local: datetime, days: int) -> datetime:
        """``days`` calendar days after ``local``, rolled forward onto a business day, at
        ``local``'s wall clock."""
        r = self.offset_index(local.toordinal() + days, 0)
        return self.wall_on(local, r, self.table)

    def add_business_days_batch(self, local: Sequence[datetime], n: int) -> list[datetime]:
        """`add_business_days` over many starts, computed once per distinct day."""
        ords = list(map(datetime.toordinal, local))
        offset = self.offset_index
        memo = {o: offset(o, n) for o in set(ords)}
        tab = self.table
        assert tab is not None
        if n != 0 and tab.odd_days.isdisjoint(memo.values()):
            # n != 0 never lands on the start's own day; no clock change on any
            # result day: wall-clock timedelta arithmetic is exact.
            shifts = {o: timedelta(r - o) for o, r in memo.items()}
            return list(map(datetime.__add__, local, map(shifts.__getitem__, ords)))
        wall_on = self.wall_on
        return [wall_on(s, memo[o], tab) for s, o in zip(local, ords, strict=True)]

    # ---------------------------------------------------------------- time

    def clock(self, tab: Table, instant: datetime) -> int:
        """Business µs from the table's start to ``instant`` (aware, any tz).

        Equal to :meth:`clock_general`: off the offset-change days the offset is
        constant over the whole local day, so the UTC difference to the window
        start is the wall-clock difference, read without any tz arithmetic.
        """
        local = instant if instant.tzinfo is self.tz else instant.astimezone(self.tz)
        o = local.toordinal()
        i = tab.cnt[o - tab.base]
        ords = tab.ords
        if i < len(ords) and ords[i] == o:
            if o in tab.odd_days:
                return self.clock_general(tab, instant)
            cum = tab.cum
            length = cum[i + 1] - cum[i]
            part = _wall_us(local) - self._start_us
            if part <= 0:
                return cum[i]
            return cum[i] + (part if part < length else length)
        return tab.cum[i]

    def clock_general(self, tab: Table, instant: datetime) -> int:
        """Reference :meth:`clock`: exact UTC arithmetic on every day."""
        local = instant if instant.tzinfo is self.tz else instant.astimezone(self.tz)
        o = local.toordinal()
        i = tab.cnt[o - tab.base]
        if i < len(tab.ords) and tab.ords[i] == o:
            length = tab.cum[i + 1] - tab.cum[i]
            part = timedelta_us(instant.astimezone(_UTC) - self.window_start(tab, o))
            return tab.cum[i] + min(max(part, 0), length)
        return tab.cum[i]

    def business_time_between(self, la: datetime, lb: datetime) -> timedelta:
        """Real elapsed time between two local instants inside business windows (negative
        if ``lb < la``)."""
        oa = la.toordinal()
        ob = lb.toordinal()
        tab = self.table  # cover_ord(oa, ob), its common case without a call
        if tab is None or not (tab.base <= oa < tab.end and tab.base <= ob < tab.end):
            tab = self.cover_ord(oa, ob)
        return timedelta(0, 0, self.clock(tab, lb) - self.clock(tab, la))

    def add_us(self, local: datetime, delta: int) -> datetime:
        """The earliest instant after ``local`` with ``delta`` µs of business time elapsed
        (the latest before it for a negative ``delta``): :meth:`add_us_general`, in
        wall-clock arithmetic when no clock change is involved.

        Off the offset-change days (``odd_days``) a local day has one UTC offset from
        its midnight to the next, so business time inside a window is wall-clock
        time: the start's clock and the result are read and built on the wall
        clock (``local + timedelta``, same tzinfo, ``fold=0``) with the very same
        table lookups and bisection as the general path. Anything else -- a start
        or result day with a clock change, a result exactly at 24:00 (the next
        midnight, which could open a gap), a result outside the built table --
        takes the general path.

        When a business day's window moves whole onto a business day ``r`` (both
        without clock change, ``r``'s window no shorter), every start strictly
        inside the window lands at the same wall clock on ``r``: that shift is
        memoised per (day, delta), so the common call (24 h from a working
        instant) is a dict lookup and one ``datetime + timedelta``.
        """
        if delta == 0:
            return local
        o = local.toordinal()
        key = delta * _ORDINALS + o
        hit = self.shift_memo.get(key)
        if hit is not None and type(local) is datetime:
            w = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000
            w += local.microsecond
            if hit.lo < w < hit.hi:
                return local + hit.by
        tab = self.table
        if tab is None or not tab.base <= o < tab.end or type(local) is not datetime:
            return self.add_us_general(local, delta)
        cum = tab.cum
        ords = tab.ords
        odd = tab.odd_days
        i = tab.cnt[o - tab.base]
        wall = _wall_us(local)
        start_us = self._start_us
        business = i < len(ords) and ords[i] == o
        if business:
            if o in odd:
                return self.add_us_general(local, delta)
            part = wall - start_us
            if part <= 0:
                target = cum[i] + delta
            else:
                length = cum[i + 1] - cum[i]
                target = cum[i] + (part if part < length else length) + delta
        else:
            target = cum[i] + delta
        if not 0 <= target < cum[-1]:
            return self.add_us_general(local, delta)
        if delta > 0:
            j = bisect.bisect_left(cum, target) - 1
        else:
            j = bisect.bisect_right(cum, target) - 1
        r = ords[j]
        at = start_us + target - cum[j]  # wall-clock µs of the result on day r
        if r in odd:
            return self.add_us_general(local, delta)
        if at >= _DAY_US:
            if at == _DAY_US and r + 1 not in odd:
                # 24:00 on day r (windows that end at midnight): the next day's midnight,
                # which exists once on a day without a clock change
                return local + timedelta(r + 1 - o, 0, -wall)
            return self.add_us_general(local, delta)
        if business and at == wall and cum[j] - cum[i] == delta:
            # Business day o moves whole windows to day r, at least as long as o's:
            # every start strictly inside o's window keeps its wall clock on day r.
            length = cum[i + 1] - cum[i]
            if 0 < length <= cum[j + 1] - cum[j] and len(self.shift_memo) < _MEMO_MAX:
                self.shift_memo[key] = Shift(start_us, start_us + length, timedelta(r - o))
        return local + timedelta(r - o, 0, at - wall)  # datetime + timedelta: fold=0

    def add_us_general(self, local: datetime, delta: int) -> datetime:
        """Reference :meth:`add_us`: exact UTC arithmetic on every step."""
        if delta == 0:
            return local
        o = local.toordinal()
        tab = self.cover_ord(o, o)
        while True:
            target = self.clock_general(tab, local) + delta
            cum = tab.cum
            if delta > 0 and target > cum[-1]:
                more = (target - cum[-1]) // (200 * max(self._nominal_us, 1)) + 1
                tab = self.cover(tab.first, tab.last + more)
                continue
            if delta < 0 and target < 0:
                more = -target // (200 * max(self._nominal_us, 1)) + 1
                tab = self.cover(tab.first - more, tab.last)
                continue
            break
        if delta > 0:
            j = bisect.bisect_left(cum, target) - 1
        else:
            j = bisect.bisect_right(cum, target) - 1
        ws = self.window_start(tab, tab.ords[j])
        return (ws + timedelta(0, 0, target - cum[j])).astimezone(self.tz)


def _wall_us(t: datetime) -> int:
    """Wall-clock µs since local midnight."""
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def timedelta_us(td: timedelta) -> int:
    """Microseconds in ``td``, exactly."""
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


# float hours -> µs for the few amounts deadlines use (``float(deadline.amount)``),
# filled on first use and bounded; NaN never hits (nan != nan) so it still raises.
_HOURS_US: Final[dict[float, int]] = {}
_HOURS_US_MAX: Final = 1024


def hours_us(hours: float) -> int:
    """Microseconds in ``hours`` (finite, else ``ValueError``), memoised for the few amounts
    deadlines use."""
    delta = _HOURS_US.get(hours)
    if delta is None:
        if not math.isfinite(hours):
            raise ValueError(f"hours must be finite, got {hours!r}")
        delta = timedelta_us(timedelta(hours=hours))
        if len(_HOURS_US) < _HOURS_US_MAX:
            _HOURS_US[hours] = delta
    return delta
