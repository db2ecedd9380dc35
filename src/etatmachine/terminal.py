"""Plain-text tables for a terminal of any width: words are never broken, nor stood on end.

`table` lays rows out in columns when they fit in ``width`` (wrapping cells at spaces and
after commas only), and returns None when even the narrowest layout does not fit; callers
then print one block per row (`block`). Long free text (an unrecognised line of 10 MB) is
cut to a few lines before it is escaped, so printing stays instant.

`width` is the terminal's width: ``COLUMNS`` when set (piped output included), else the
terminal's, else 100.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

__all__ = [
    "block",
    "clip",
    "render_catalogue",
    "render_report",
    "render_summary",
    "table",
    "width",
]

GAP = "  "
NBSP = "\xa0"  # glues a cell's words (a date and its time) so that they never part
_LEGEND = (
    "due: as recorded, and below it the catalogue's own when they differ; late: how late "
    "the step the entry closes was (business time; d = 24 business hours)"
)


def width(default: int = 100) -> int:
    """The output's width in columns (at least 40)."""
    return max(40, shutil.get_terminal_size((default, 24)).columns)


def _wrap(text: str, cols: int) -> list[str]:
    """``text`` in lines of at most ``cols``, broken at spaces (and after ", "), never inside
    a word; a word longer than ``cols`` stands alone on its line."""
    out: list[str] = []
    for para in text.split("\n"):
        out.extend(
            line.replace(NBSP, " ")
            for line in textwrap.wrap(para, cols, break_long_words=False, break_on_hyphens=False)
            or [""]
        )
    return out


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.replace("\n", " ").split(" ")), default=0)  # NBSP glues


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def _fit(text: str, limit: int, cols: int) -> str:
    """``text`` clipped to ``limit`` characters, and any word of it too long for a line of
    ``cols`` (indents and a prefix aside) cut too: a 10 MB word never overflows a line."""
    text = clip(text, limit)
    longest = max(8, cols - 8)
    if _longest_word(text) <= longest:
        return text
    return " ".join(w if len(w) <= longest else w[: longest - 1] + "…" for w in text.split(" "))


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    cols: int,
    right: Iterable[int] = (),
) -> str | None:
    """``rows`` in columns within ``cols``, or None when they cannot fit without breaking
    a word. Columns wider than needed shrink first, widest first, down to their longest word.
    """
    right = set(right)
    n = len(headers)
    natural = [
        max([len(headers[i])] + [max(map(len, r[i].split("\n"))) for r in rows]) for i in range(n)
    ]
    least = [max([len(headers[i])] + [_longest_word(r[i]) for r in rows]) for i in range(n)]
    budget = cols - len(GAP) * (n - 1)
    if sum(least) > budget:
        return None
    widths = list(natural)
    while sum(widths) > budget:
        i = max(range(n), key=lambda k: widths[k] - least[k])
        widths[i] -= min(widths[i] - least[i], sum(widths) - budget)
    lines = []
    for cells in [list(headers), *rows]:
        wrapped = [_wrap(cells[i], widths[i]) for i in range(n)]
        for k in range(max(map(len, wrapped))):
            parts = []
            for i in range(n):
                part = wrapped[i][k] if k < len(wrapped[i]) else ""
                parts.append(part.rjust(widths[i]) if i in right else part.ljust(widths[i]))
            lines.append(GAP.join(parts).rstrip())
    lines.insert(1, GAP.join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def block(title: str, fields: Sequence[tuple[str, str]], cols: int, indent: int = 4) -> str:
    """One row as a block: its title, then ``name value`` pairs wrapped at ``cols``."""
    text = "  ".join(f"{name}{NBSP}{value}" if name else value for name, value in fields if value)
    pad = " " * indent
    body = textwrap.fill(
        text,
        cols,
        initial_indent=pad,
        subsequent_indent=pad,
        break_long_words=False,
        break_on_hyphens=False,
    ).replace(NBSP, " ")
    return "\n".join([*_wrap(title, cols), body]) + "\n"


def _local(when: datetime | None) -> str:
    from etatmachine.business_calendar import PARIS

    return when.astimezone(PARIS).strftime(f"%d/%m/%Y{NBSP}%H:%M") if when else "-"


def _duration(seconds: float) -> str:
    if seconds <= 0:
        return "-"
    hours = seconds / 3600
    return f"{hours:.1f}{NBSP}h" if hours < 48 else f"{hours / 24:.1f}{NBSP}d"


def _lateness(entry: Any) -> float:
    return float(entry.lateness_business_seconds)


def render_report(report: Any, cols: int) -> str:
    """One replayed dossier: its entries (a table, or blocks when narrow), then its breaches
    and the lines that could not be read."""
    n = report.summary.entries
    title = f"{report.dossier_id}: {n} {'entry' if n == 1 else 'entries'}"
    if report.contractor:
        title += f", contractor {_fit(report.contractor, cols, cols)}"
    rows = []
    for e in report.entries:
        due = _local(e.due_at)
        if e.computed_due_at and e.computed_due_at != e.due_at:
            due += "\n" + _local(e.computed_due_at)
        lateness = _lateness(e)
        rows.append(
            [
                str(e.line),
                _local(e.set_at),
                e.state or f"? {_fit(e.label, 2 * cols, cols)}",
                due,
                e.role.value if e.role else "?",
                "ok" if e.verdict == "accepted" else ", ".join(v.rule for v in e.violations),
                f"+{_duration(lateness)}" if lateness > 0 else "-",
            ]
        )
    out = [*_wrap(title, cols)]
    laid = table(
        ["line", "set", "state", "due", "by", "verdict", "late"], rows, cols - 2, right=[0]
    )
    if laid is not None:
        out.extend("  " + line if line else line for line in laid.splitlines())
    else:
        for row in rows:
            line, set_at, state, due, by, verdict, late = row
            due_text = due.replace("\n", f"{NBSP}(catalogue{NBSP}") + (")" if "\n" in due else "")
            out.append(
                block(
                    f"  line{NBSP}{line}  {set_at}  {state}",
                    [("due", due_text), ("by", by), ("", verdict), ("late", late)],
                    cols,
                ).rstrip("\n")
            )
    for e in report.entries:
        for v in e.violations:
            message = _fit(v.message, 4 * cols, cols)
            out.extend(_wrap_indented(f"line{NBSP}{e.line}: {v.rule}: {message}", cols))
    for u in report.unrecognised:
        text = _fit(f"{u.message}: {clip(u.text, 2 * cols)!r}", 4 * cols, cols)
        out.extend(_wrap_indented(f"line{NBSP}{u.line}: {text}", cols))
    return "\n".join(out) + "\n\n"


def _wrap_indented(text: str, cols: int) -> list[str]:
    return [
        line.replace(NBSP, " ")
        for line in textwrap.wrap(
            text,
            cols,
            initial_indent="  ",
            subsequent_indent="      ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    ]


def render_summary(count: int, summary: Any, cols: int, *, legend: bool = True) -> str:
    """The combined summary: counts, breaches by rule, lateness by owner and by contractor."""
    files = "dossier" if count == 1 else "dossiers"
    out: list[str] = []
    if legend:
        out.extend(_wrap(_LEGEND, cols))
    out.extend(
        _wrap(
            f"{count} {files}, {summary.entries} entries: {summary.accepted} accepted, "
            f"{summary.refused} with breaches, {summary.unresolved} unresolved; "
            "contractor late by "
            f"{_duration(summary.contractor_lateness_business_seconds)} in business time",
            cols,
        )
    )
    if summary.violations_by_rule:
        out.extend(
            _wrap(
                "breaches by rule: "
                + ", ".join(f"{rule}{NBSP}{n}" for rule, n in summary.violations_by_rule.items()),
                cols,
            )
        )
    for title, groups in (
        ("owner", summary.lateness.by_owner),
        ("contractor", summary.lateness.by_contractor),
    ):
        if not groups:
            continue
        out.append("")
        out.append(f"lateness by {title} (business time)")
        rows = [
            [key, str(g.steps), str(g.late), _duration(g.median_seconds), _duration(g.p90_seconds)]
            for key, g in groups.items()
        ]
        headers = [title, "steps", "late", "median late", "p90 late"]
        laid = table(headers, rows, cols, right=[1, 2, 3, 4])
        if laid is None:
            out.extend(
                block(r[0], list(zip(headers[1:], r[1:], strict=True)), cols).rstrip("\n")
                for r in rows
            )
        else:
            out.extend(laid.splitlines())
    return "\n".join(out) + "\n"


def render_catalogue(title: str, rows: Sequence[Sequence[str]], cols: int) -> str:
    """The catalogue: code, label, phase, owner, deadline, rules, moves."""
    headers = ["code", "label", "phase", "owner", "deadline", "rules", "moves"]
    out = [*_wrap(title, cols)]
    laid = table(headers, rows, cols, right=[6])
    if laid is not None:
        out.extend(laid.splitlines())
    else:
        for r in rows:
            out.append(block(r[0], list(zip(headers[1:], r[1:], strict=True)), cols).rstrip("\n"))
    return "\n".join(out) + "\n"
