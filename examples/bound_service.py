"""A service that keeps its own mutable rows and moves them through `Workflow.bind`.

`ClaimRow` stands in for an ORM row: its columns have the service's own (French) names,
and the service never builds a `Dossier` itself. Binding gives each row the transitions
interface (``row.to_<code>(...)``, ``row.trigger(...)``, ``row.may_to_<code>(...)``); the
rules run as each move's condition, so a refusal raises the same `MoveRefused` the value
API raises and leaves the row untouched. Effects reach the service through hooks:
``on_enter_<code>`` on the row class, and the binder's ``after`` hook, which here also
"commits" the row. A chase past its deadline is refused: the complaint to open comes
with the refusal (``MoveRefused.effects``). Run it: ``python examples/bound_service.py``.

>>> desk = ClaimsDesk()
>>> row = desk.open("2301234", at=datetime(2024, 3, 4, 9, 0, tzinfo=PARIS), canal="sinapps")
>>> row.etat, row.echeance.isoformat(), row.revision
('etude_devis', '2024-03-06T09:00:00+01:00', 0)
>>> desk.chase("2301234", at=datetime(2024, 3, 4, 11, 0, tzinfo=PARIS))
'ok : demande_traitement_devis'
>>> desk.outbox  # the surveyor relaunch the state performs
['relancer le mètreur du dossier 2301234 (échéance 06/03/2024 09:00)']
>>> desk.wait("2301234", "attente_cie", "accord de la compagnie attendu",
...           at=datetime(2024, 3, 4, 12, 0, tzinfo=PARIS),
...           until=datetime(2024, 3, 11, 12, 0, tzinfo=PARIS))
'ok : attente_cie'
>>> desk.outbox[-1]  # a wait on a Sinapps file: report the anomaly
'anomalie Sinapps sur 2301234 : attente_cie'
>>> desk.wait("2301234", "attente_expert", "", at=datetime(2024, 3, 4, 13, 0, tzinfo=PARIS))
'refusé : comment_required, data_required'
>>> desk.table["2301234"].etat, desk.table["2301234"].revision  # untouched by the refusal
('attente_cie', 2)
>>> desk.commits
[('2301234', 0), ('2301234', 1), ('2301234', 2)]

A second file chased too late: refused, and the refusal asks for a complaint.

>>> late = desk.open("2305678", at=datetime(2024, 3, 4, 9, 0, tzinfo=PARIS))
>>> desk.chase("2305678", at=datetime(2024, 3, 8, 9, 0, tzinfo=PARIS))
'refusé : deadline_passed'
>>> desk.outbox[-1]
'réclamation à ouvrir sur 2305678 (en retard depuis le 06/03/2024 09:00)'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from etatmachine import Actor, HistoryEntry, MoveRefused, Role, Workflow
from etatmachine.binding import Binder, Change, Names
from etatmachine.business_calendar import PARIS
from etatmachine.effects import ComplaintToOpen, Effect, SinappsAnomaly, SurveyorRelaunch

COLUMNS = Names(
    id="numero",
    state="etat",
    due_at="echeance",
    version="revision",
    history="historique",
    contact_attempts="relances",
    interrupted="etape_interrompue",
    insurer="assureur",
    channel="canal",
    subdivision=None,  # the service has no such column: the default calendar
    contractor=None,
    flags=None,
)
"""The row's column names (an ORM mapping would declare the same)."""


@dataclass
class ClaimRow:
    """One row of the service's ``dossier`` table, as its ORM would load it."""

    numero: str
    assureur: str | None = None
    canal: str | None = None
    etat: str = ""
    echeance: datetime | None = None
    revision: int = 0
    historique: tuple[HistoryEntry, ...] = ()
    relances: int = 0
    etape_interrompue: str | None = None
    outbox: list[str] = field(default_factory=list, repr=False)

    def on_enter_demande_traitement_devis(self, change: Change) -> None:
        """The state relaunches the surveyor: the row hands the relaunch to its desk."""
        for effect in change.effects:
            if isinstance(effect, SurveyorRelaunch) and effect.due_at is not None:
                self.outbox.append(
                    f"relancer le mètreur du dossier {self.numero} "
                    f"(échéance {effect.due_at:%d/%m/%Y %H:%M})"
                )


@dataclass
class ClaimsDesk:
    """Keeps the rows, moves them through the binder, performs the effects."""

    workflow: Workflow = field(default_factory=Workflow.default)
    table: dict[str, ClaimRow] = field(default_factory=dict)
    outbox: list[str] = field(default_factory=list)
    commits: list[tuple[str, int]] = field(default_factory=list)
    handler: Actor = field(default_factory=lambda: Actor(role=Role.CASE_HANDLER, id="1002688"))

    def __post_init__(self) -> None:
        self.binder = Binder(self.workflow, names=COLUMNS, after=self.after)

    def after(self, change: Change) -> None:
        """After every accepted change: perform the effects, then commit the row."""
        for effect in change.effects:
            self.perform(effect)
        row = change.obj
        self.outbox.extend(row.outbox)
        row.outbox.clear()
        self.commits.append((row.numero, row.revision))  # UPDATE ... WHERE revision = :old

    def perform(self, effect: Effect) -> None:
        if isinstance(effect, SinappsAnomaly):
            self.outbox.append(f"anomalie Sinapps sur {effect.dossier_id} : {effect.state}")
        elif isinstance(effect, ComplaintToOpen):
            self.outbox.append(
                f"réclamation à ouvrir sur {effect.dossier_id} "
                f"(en retard depuis le {effect.overdue_since:%d/%m/%Y %H:%M})"
            )

    def open(self, numero: str, *, at: datetime, **columns: Any) -> ClaimRow:
        row = ClaimRow(numero, **columns)
        self.binder.open(row, "etude_devis", actor=self.handler, at=at, mid_flow=True)
        self.table[numero] = row
        return row

    def _move(self, numero: str, target: str, **inputs: Any) -> str:
        row = self.table[numero]
        try:
            row.trigger(target, actor=self.handler, **inputs)  # type: ignore[attr-defined]
        except MoveRefused as refusal:
            for effect in refusal.effects:  # a late chase: the complaint to open
                self.perform(effect)
            return "refusé : " + ", ".join(refusal.rules)
        return f"ok : {row.etat}"

    def chase(self, numero: str, *, at: datetime) -> str:
        """The insurer or the insured chased the quote."""
        return self._move(numero, "demande_traitement_devis", at=at)

    def wait(
        self, numero: str, wait: str, comment: str, *, at: datetime, until: datetime | None = None
    ) -> str:
        return self._move(numero, wait, at=at, comment=comment, due=until)


def main() -> None:
    desk = ClaimsDesk()
    desk.open("2301234", at=datetime(2024, 3, 4, 9, 0, tzinfo=PARIS), canal="sinapps")
    print(desk.chase("2301234", at=datetime(2024, 3, 4, 11, 0, tzinfo=PARIS)))
    print(desk.chase("2301234", at=datetime(2024, 3, 9, 11, 0, tzinfo=PARIS)))
    print(*desk.outbox, sep="\n")


if __name__ == "__main__":
    main()
