"""The rules a move must follow, each a named unit with a stable code.

A rule is a function ``check(ref, ctx) -> Violation | None``: ``ref`` is the rule's
parameters as the catalogue declares them, ``ctx`` the move being judged. Rules never
raise for bad user input: they report it as a violation, so a caller sees every broken
rule of a move at once. The engine decides which rules apply to which move; this module
only knows how to judge one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from etatmachine.business_calendar import FIRST_YEAR, LAST_YEAR
from etatmachine.catalogue import Authority, StateSpec
from etatmachine.dossier import Actor
from etatmachine.roles import Role
from etatmachine.trusted import trusted
from etatmachine.violations import Violation
from etatmachine.working import DossierView

__all__ = [
    "LEAVE_CHECKS",
    "RULES",
    "MoveContext",
    "RuleInfo",
    "actor_may_enter",
    "actor_may_leave",
    "as_amount",
    "as_aware_datetime",
    "as_percent",
    "as_week",
    "run_check",
    "violation",
    "week_problem",
    "week_year",
]

PARIS_MONTH_DAY = "%m-%d"


@dataclass(slots=True, init=False)
class MoveContext:
    """A move being judged: the file, where it goes, who asks, when, with what."""

    dossier: DossierView
    source: StateSpec | None
    target: StateSpec
    actor: Actor
    at: datetime
    local_day: date
    """``at`` as a date in the platform's timezone (seasons are local)."""
    comment: str | None
    due: datetime | None
    data: Mapping[str, Any]

    def __init__(
        self,
        dossier: DossierView,
        source: StateSpec | None,
        target: StateSpec,
        actor: Actor,
        at: datetime,
        local_day: date,
        comment: str | None,
        due: datetime | None,
        data: Mapping[str, Any],
    ) -> None:
        # written out, not generated: the compiled core builds one per judged move, and a
        # dataclass's generated ``__init__`` would run as Python
        self.dossier = dossier
        self.source = source
        self.target = target
        self.actor = actor
        self.at = at
        self.local_day = local_day
        self.comment = comment
        self.due = due
        self.data = data


_VIOLATION_FIELDS = set(Violation.model_fields)  # shared: frozen models never change it


def violation(code: str, state: str, fr: str, en: str) -> Violation:
    """A violation of rule ``code`` at ``state``, in French and English (the rules' own
    texts: built without validation)."""
    return trusted(
        Violation,
        {"rule": code, "state": state, "message_fr": fr, "message_en": en},
        _VIOLATION_FIELDS,
    )


# --- data coercion: what the data fields accept ---------------------------------------


_DECIMAL = re.compile(r"[0-9]{1,3}(?:[.,][0-9]{1,6})?")
"""A humidity rate as text: ASCII digits, an optional decimal part (``55``, ``55.5``,
``55,5``). Not ``"1_0"``, ``"٥٠"`` (Arabic-Indic digits) or ``"5e1"``, which `float`
would read: a rate is written as people write it, anything else is a typo."""
_WEEK = re.compile(r"(?:([0-9]{4})-W)?([0-9]{1,2})")


def as_aware_datetime(value: Any) -> datetime | str:
    """The datetime a data field holds, or an English reason why it is not one."""
    if isinstance(value, str):
        if len(value) > 64:
            return f"not an ISO 8601 date-time: {value[:40]!r}..."
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return f"not an ISO 8601 date-time: {value!r}"
    if not isinstance(value, datetime):
        return f"not a date-time: {value!r}"
    if value.tzinfo is None or value.utcoffset() is None:
        return f"must be timezone-aware, got naive {value.isoformat()}"
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        return f"year {value.year} is outside the supported range {FIRST_YEAR}-{LAST_YEAR}"
    return value


def as_percent(value: Any) -> float | str:
    """A humidity rate from 0 to 100, or an English reason why it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return f"not a number: {value!r}"
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL.fullmatch(text):
            shown = value if len(value) <= 20 else f"{value[:20]}..."
            return f"not a number: {shown!r}"
        number = float(text.replace(",", "."))
    elif isinstance(value, int):
        if not 0 <= value <= 100:  # before float(): 10**5000 has no float
            return f"must be between 0 and 100, got {value if value < 10**20 else 'a huge number'}"
        number = float(value)
    else:
        number = value
    if not 0 <= number <= 100:  # NaN fails too
        return f"must be between 0 and 100, got {value!r}"
    return number


def as_amount(value: Any) -> Decimal | str:
    """A money amount (a quote, a limit) as a non-negative Decimal, or an English reason.

    Accepts numbers and the French spellings of histories: ``"1 550,00"``, ``"1550.00 €"``.
    """
    if isinstance(value, bool):
        return f"not an amount: {value!r}"
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | float):
        number = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip().removesuffix("€").removesuffix("EUR").strip()
        text = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        if "," in text:
            text = text.replace(".", "").replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return f"not an amount: {value!r}"
    else:
        return f"not an amount: {value!r}"
    if not number.is_finite() or number < 0 or abs(number.adjusted()) > 12:
        return f"must be a finite amount of at least 0, got {value!r}"
    return number


def as_week(value: Any) -> tuple[int | None, int] | str:
    """An ISO week as ``(year or None, week)``: ``14``, ``"14"`` or ``"2023-W14"``."""
    if isinstance(value, bool):
        return f"not a week: {value!r}"
    if isinstance(value, str):
        found = _WEEK.fullmatch(value.strip().upper())
        if found is None:
            shown = value if len(value) <= 20 else f"{value[:20]}..."
            return f"not an ISO week: {shown!r}"
        year = int(found.group(1)) if found.group(1) else None
        value_int = int(found.group(2))
        if year is not None and not FIRST_YEAR <= year <= LAST_YEAR:
            return f"year {year} is outside the supported range {FIRST_YEAR}-{LAST_YEAR}"
    elif isinstance(value, int):
        year, value_int = None, value
    else:
        return f"not a week: {value!r}"
    if not 1 <= value_int <= 53:
        given: object = (
            value if not isinstance(value, int) or abs(value) < 10**20 else "a huge number"
        )
        return f"week must be between 1 and 53, got {given!r}"
    return (year, value_int)


def week_year(at: datetime, year: int | None, week: int) -> int:
    """The year of ISO ``week`` as a delivery announced at ``at`` means it: this year's
    week, or next year's when that week is already past."""
    if year is not None:
        return year
    iso_year, iso_week, _ = at.isocalendar()
    return iso_year if week >= iso_week else iso_year + 1


def week_problem(at: datetime, year: int | None, week: int) -> str | None:
    """Why ISO ``week`` does not exist in the year it falls in, or None."""
    resolved = week_year(at, year, week)
    try:
        date.fromisocalendar(resolved, week, 1)
    except ValueError:
        return f"week {week} does not exist in {resolved}"
    return None


# --- the rules ------------------------------------------------------------------------


def _comment_required(ref: Any, ctx: MoveContext) -> Violation | None:
    if ctx.comment is not None and ctx.comment.strip():
        return None
    return violation(
        "comment_required",
        ctx.target.code,
        f"« {ctx.target.label} » : il faut toujours justifier l'attente avec un commentaire.",
        f"'{ctx.target.code}' is a wait: it must be justified by a non-blank comment.",
    )


def _role_reserved_enter(ref: Any, ctx: MoveContext) -> Violation | None:
    if ctx.actor.role in ref.roles:
        return None
    roles = ", ".join(r.value for r in ref.roles)
    return violation(
        "role_reserved",
        ctx.target.code,
        f"« {ctx.target.label} » est réservée à : {roles} (pas à {ctx.actor.role.value}).",
        f"'{ctx.target.code}' is reserved to {roles}; {ctx.actor.role.value} may not set it.",
    )


def _role_reserved_leave(ref: Any, ctx: MoveContext) -> Violation | None:
    assert ctx.source is not None
    if ctx.actor.role in ref.roles:
        return None
    roles = ", ".join(r.value for r in ref.roles)
    return violation(
        "role_reserved",
        ctx.source.code,
        f"« {ctx.source.label} » est réservée à : {roles} ; il ne faut pas y toucher.",
        f"'{ctx.source.code}' is reserved to {roles}; {ctx.actor.role.value} may not touch it.",
    )


def _insurer_restricted(ref: Any, ctx: MoveContext) -> Violation | None:
    if ctx.dossier.insurer in ref.insurers:
        return None
    allowed = ", ".join(ref.insurers)
    return violation(
        "insurer_restricted",
        ctx.target.code,
        f"« {ctx.target.label} » ne concerne que les dossiers {allowed} "
        f"(dossier : {ctx.dossier.insurer or 'compagnie inconnue'}).",
        f"'{ctx.target.code}' is only for {allowed} files "
        f"(this file: {ctx.dossier.insurer or 'no insurer'}).",
    )


def _flag_required(ref: Any, ctx: MoveContext) -> Violation | None:
    if ref.flag in ctx.dossier.flags:
        return None
    return violation(
        "flag_required",
        ctx.target.code,
        f"« {ctx.target.label} » exige un dossier marqué {ref.flag}.",
        f"'{ctx.target.code}' needs a file flagged {ref.flag!r}.",
    )


def _channel_restricted(ref: Any, ctx: MoveContext) -> Violation | None:
    if ctx.dossier.channel in ref.channels:
        return None
    allowed = ", ".join(ref.channels)
    return violation(
        "channel_restricted",
        ctx.target.code,
        f"« {ctx.target.label} » ne concerne que les dossiers arrivés par {allowed}.",
        f"'{ctx.target.code}' is only for files that came through {allowed} "
        f"(this file: {ctx.dossier.channel or 'no channel'}).",
    )


def _season_restricted(ref: Any, ctx: MoveContext) -> Violation | None:
    day = ctx.local_day.strftime(PARIS_MONTH_DAY)
    inside = (
        ref.start <= day <= ref.end
        if ref.start <= ref.end
        else (day >= ref.start or day <= ref.end)
    )
    if inside:
        return None
    return violation(
        "season_restricted",
        ctx.target.code,
        f"« {ctx.target.label} » ne s'utilise qu'entre le {ref.start} et le {ref.end} "
        f"(mois-jour), pas le {ctx.local_day.isoformat()}.",
        f"'{ctx.target.code}' may only be set between {ref.start} and {ref.end} (month-day), "
        f"not on {ctx.local_day.isoformat()}.",
    )


def _check_value(kind: str, value: Any) -> str | None:
    """None when ``value`` fits ``kind``, else an English reason."""
    if kind in ("datetime", "week_or_datetime"):
        when = as_aware_datetime(value)
        return when if isinstance(when, str) else None
    if kind == "percent":
        number = as_percent(value)
        return number if isinstance(number, str) else None
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"not a whole number: {value!r}"
    return None if isinstance(value, bool) else f"not true/false: {value!r}"


def _data_required(ref: Any, ctx: MoveContext) -> Violation | None:
    data = ctx.data
    names = (ref.field, *ref.alternatives)
    present = [name for name in names if data.get(name) is not None]
    if not present:
        wanted = " or ".join(names)
        return violation(
            "data_required",
            ctx.target.code,
            f"« {ctx.target.label} » exige la donnée {wanted}.",
            f"'{ctx.target.code}' needs the data field {wanted}.",
        )
    name = present[0]
    if name == ref.field:
        problem = _check_value(ref.type, data[name])
    else:  # an alternative: a week for a delivery
        week = as_week(data[name])
        problem = week if isinstance(week, str) else week_problem(ctx.at, *week)
    if problem is None:
        return None
    return violation(
        "data_required",
        ctx.target.code,
        f"« {ctx.target.label} » : donnée {name} invalide ({problem}).",
        f"'{ctx.target.code}': data field {name} is invalid: {problem}.",
    )


def _contact_attempts_required(ref: Any, ctx: MoveContext) -> Violation | None:
    # Attempts are facts of the audit trail (`Workflow.record_contact_attempt`), never a
    # number claimed with the move: a count in the move's data is not read.
    attempts = ctx.dossier.contact_attempts
    if attempts >= ref.minimum:
        return None
    return violation(
        "contact_attempts_required",
        ctx.target.code,
        f"« {ctx.target.label} » seulement après au moins {ref.minimum} relances "
        f"({attempts} faites).",
        f"'{ctx.target.code}' needs at least {ref.minimum} contact attempts first "
        f"({attempts} recorded).",
    )


def _deadline_passed(ref: Any, ctx: MoveContext) -> Violation | None:
    due = ctx.dossier.due_at
    if due is None or ctx.at <= due:
        return None
    source = ctx.source.label if ctx.source else "?"
    return violation(
        "deadline_passed",
        ctx.target.code,
        f"Le délai de « {source} » est dépassé depuis le {due.isoformat()} : "
        "il faut ouvrir une réclamation pour délais.",
        f"the deadline of '{ctx.dossier.state}' passed at {due.isoformat()}: "
        "open a complaint instead.",
    )


def _roles_text(roles: frozenset[Role]) -> str:
    return ", ".join(sorted(r.value for r in roles))


def actor_may_enter(authority: Authority, ctx: MoveContext) -> Violation | None:
    """``actor_not_allowed``: the actor's role may not set the target state."""
    if ctx.actor.role in authority.enter:
        return None
    who = _roles_text(authority.enter)
    return violation(
        "actor_not_allowed",
        ctx.target.code,
        f"« {ctx.target.label} » ne peut être posée que par : {who} "
        f"(pas par {ctx.actor.role.value}).",
        f"'{ctx.target.code}' may only be set by {who}; {ctx.actor.role.value} may not.",
    )


def actor_may_leave(authority: Authority, ctx: MoveContext) -> Violation | None:
    """``actor_not_allowed``: the actor's role may not move the file out of its state (or
    change its due date)."""
    assert ctx.source is not None
    if ctx.actor.role in authority.leave:
        return None
    who = _roles_text(authority.leave)
    return violation(
        "actor_not_allowed",
        ctx.source.code,
        f"Seuls {who} peuvent faire sortir le dossier de « {ctx.source.label} » ou en changer "
        f"l'échéance (pas {ctx.actor.role.value}).",
        f"only {who} may move the file out of '{ctx.source.code}' or change its due date; "
        f"{ctx.actor.role.value} may not.",
    )


def _autonomy_limit(ref: Any, ctx: MoveContext) -> Violation | None:
    dossier = ctx.dossier
    limit, amount = dossier.autonomy_limit, dossier.quote_amount
    if limit is None or amount is None or amount <= limit:
        return None
    # the insurer's agreement must have been asked since the quote that carries the amount
    for entry in reversed(dossier.history):
        if entry.target in ref.via:
            return None
        if "quote_amount" in entry.data:
            break
    via = ", ".join(ref.via)
    return violation(
        "autonomy_limit_exceeded",
        ctx.target.code,
        f"Devis de {amount} au-delà de la limite d'autonomie de MA ({limit}) : l'accord de la "
        f"compagnie est nécessaire avant « {ctx.target.label} » (passer par : {via}).",
        f"the quote ({amount}) is above MA's autonomy limit ({limit}): the insurer's agreement "
        f"must be asked ({via}) before '{ctx.target.code}'.",
    )


def _appointment_too_far(ref: Any, ctx: MoveContext) -> Violation | None:
    when = as_aware_datetime(ctx.data.get(ref.field))
    if isinstance(when, str):
        return None  # data_required reports a missing or bad appointment
    # elapsed time in UTC: subtracting two datetimes of one zone would use wall clocks
    if when.astimezone(UTC) - ctx.at.astimezone(UTC) <= timedelta(days=ref.days):
        return None
    return violation(
        "appointment_too_far",
        ctx.target.code,
        f"RDV à plus de {ref.days} jours ({when.date().isoformat()}) : utiliser "
        f"la date d'action « {ref.instead} » si c'est la demande du client.",
        f"appointment more than {ref.days} days out ({when.date().isoformat()}): "
        f"use '{ref.instead}' when the insured asked for it.",
    )


Check = Callable[[Any, MoveContext], Violation | None]


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule's code, what it checks (for docs and ``explain``), and its check."""

    code: str
    summary_en: str
    summary_fr: str
    check: Check | None
    """None for the rules the engine judges itself (graph, time order, due override)."""


RULES: Final[Mapping[str, RuleInfo]] = {
    r.code: r
    for r in (
        RuleInfo(
            "actor_not_allowed",
            "Only the roles the catalogue names for a state (and the desks delegated on it) may "
            "set it, move the file out of it or change its due date.",
            "Seuls les rôles prévus pour une date d'action (et les services délégués) peuvent la "
            "poser, en faire sortir le dossier ou en changer l'échéance.",
            None,
        ),
        RuleInfo(
            "due_in_past",
            "A due date (or an appointment) must come after the move that sets it.",
            "Une échéance (ou un RDV) doit être postérieure au passage qui la pose.",
            None,
        ),
        RuleInfo(
            "due_beyond_deadline",
            "Replay: a due date recorded later than the procedure's deadline allows; the "
            "lateness is measured against the procedure's own deadline.",
            "Rejeu : échéance saisie au-delà du délai de la procédure ; le retard se mesure "
            "par rapport au délai de la procédure.",
            None,
        ),
        RuleInfo(
            "autonomy_limit_exceeded",
            "A quote above the file's autonomy limit goes to works only after the insurer's "
            "agreement was asked.",
            "Un devis au-delà de la limite d'autonomie ne passe en travaux qu'après l'accord "
            "de la compagnie.",
            _autonomy_limit,
        ),
        RuleInfo(
            "move_not_allowed",
            "The move is not in the catalogue (or the file is closed).",
            "Le passage n'est pas prévu par le catalogue (ou le dossier est clos).",
            None,
        ),
        RuleInfo(
            "out_of_order",
            "A move cannot be dated before the file's last change.",
            "Un passage ne peut pas être antérieur au dernier changement du dossier.",
            None,
        ),
        RuleInfo(
            "due_date_locked",
            "The due date of ouverture/travaux and « ne pas toucher » states is the "
            "reference for lateness: it cannot be rescheduled or overridden.",
            "Il ne faut pas les changer : on veut suivre le retard du prestataire.",
            None,
        ),
        RuleInfo(
            "due_not_overridable",
            "The state's due date is computed from its deadline; none may be given.",
            "L'échéance de cette date d'action est calculée ; elle ne se saisit pas.",
            None,
        ),
        RuleInfo(
            "comment_required",
            "Every wait must be justified by a comment.",
            "Il faut toujours justifier l'attente avec un commentaire.",
            _comment_required,
        ),
        RuleInfo(
            "role_reserved",
            "Only the named desk may set (or leave) the state.",
            "Date d'action réservée à un service.",
            _role_reserved_enter,
        ),
        RuleInfo(
            "insurer_restricted",
            "The state belongs to some insurers' files only.",
            "Date d'action propre à certaines compagnies.",
            _insurer_restricted,
        ),
        RuleInfo(
            "flag_required",
            "The file must carry a flag (e.g. REN-EXPERT).",
            "Le dossier doit porter un marqueur (ex. REN-EXPERT).",
            _flag_required,
        ),
        RuleInfo(
            "channel_restricted",
            "The state belongs to files of some channels (Sinapps).",
            "Date d'action propre à un canal (Sinapps, Darva).",
            _channel_restricted,
        ),
        RuleInfo(
            "season_restricted",
            "The state may only be set within a season (summer).",
            "Date d'action utilisée exclusivement en période d'été.",
            _season_restricted,
        ),
        RuleInfo(
            "data_required",
            "The move must carry a datum: humidity %, appointment, delivery date.",
            "Le passage exige une donnée : % d'humidité, date de RDV, date de livraison.",
            _data_required,
        ),
        RuleInfo(
            "contact_attempts_required",
            "« Client injoignable » after 3 attempts at least.",
            "Client injoignable : suite à au moins 3 relances.",
            _contact_attempts_required,
        ),
        RuleInfo(
            "deadline_passed",
            "A chase by the insurer or the insured is only recorded while the current "
            "deadline runs; past it, a complaint is opened instead.",
            "Relance seulement dans le délai ; au-delà, on active une réclamation.",
            _deadline_passed,
        ),
        RuleInfo(
            "appointment_too_far",
            "A first visit more than 7 days out must use the client-request state.",
            "Première visite à plus de 7 jours : « demandée par le client ».",
            _appointment_too_far,
        ),
    )
}

LEAVE_CHECKS: Final[Mapping[str, Check]] = {"role_reserved": _role_reserved_leave}
"""Checks of a source state's rules that apply when a file leaves it."""


# Each check this module defines, as a constant: `run_check` compares the one it is given
# with them and calls it directly.
_COMMENT_REQUIRED: Final = _comment_required
_DATA_REQUIRED: Final = _data_required
_DEADLINE_PASSED: Final = _deadline_passed
_CONTACT_ATTEMPTS_REQUIRED: Final = _contact_attempts_required
_APPOINTMENT_TOO_FAR: Final = _appointment_too_far
_AUTONOMY_LIMIT: Final = _autonomy_limit
_INSURER_RESTRICTED: Final = _insurer_restricted
_CHANNEL_RESTRICTED: Final = _channel_restricted
_FLAG_REQUIRED: Final = _flag_required
_SEASON_RESTRICTED: Final = _season_restricted
_ROLE_RESERVED_ENTER: Final = _role_reserved_enter
_ROLE_RESERVED_LEAVE: Final = _role_reserved_leave
_ACTOR_MAY_ENTER: Final = actor_may_enter
_ACTOR_MAY_LEAVE: Final = actor_may_leave


def run_check(check: Check, ref: Any, ctx: MoveContext) -> Violation | None:
    """``check(ref, ctx)``. Compiled, a call through a function object parses and checks its
    arguments as a call from Python does; the checks defined here are recognised by identity
    and called directly (any other check, a user's, is called as given)."""
    if check is _COMMENT_REQUIRED:
        return _comment_required(ref, ctx)
    if check is _DATA_REQUIRED:
        return _data_required(ref, ctx)
    if check is _DEADLINE_PASSED:
        return _deadline_passed(ref, ctx)
    if check is _CONTACT_ATTEMPTS_REQUIRED:
        return _contact_attempts_required(ref, ctx)
    if check is _APPOINTMENT_TOO_FAR:
        return _appointment_too_far(ref, ctx)
    if check is _AUTONOMY_LIMIT:
        return _autonomy_limit(ref, ctx)
    if check is _INSURER_RESTRICTED:
        return _insurer_restricted(ref, ctx)
    if check is _CHANNEL_RESTRICTED:
        return _channel_restricted(ref, ctx)
    if check is _FLAG_REQUIRED:
        return _flag_required(ref, ctx)
    if check is _SEASON_RESTRICTED:
        return _season_restricted(ref, ctx)
    if check is _ROLE_RESERVED_ENTER:
        return _role_reserved_enter(ref, ctx)
    if check is _ROLE_RESERVED_LEAVE:
        return _role_reserved_leave(ref, ctx)
    if check is _ACTOR_MAY_ENTER:
        return actor_may_enter(ref, ctx)
    if check is _ACTOR_MAY_LEAVE:
        return actor_may_leave(ref, ctx)
    return check(ref, ctx)
