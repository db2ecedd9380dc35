"""A back-office service on top of etatmachine: the shape a real one takes.

The service keeps dossiers in a store (here a dict; in production a table with a
``version`` column), shares one compiled `Workflow`, and turns each request into a move.
A refused move is answered with the rule codes and the French messages the desk reads;
effects (the surveyor's relaunch, the Sinapps anomaly, a complaint) are handed to
whoever performs them. Run it: ``python examples/backoffice_service.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from etatmachine import (
    Actor,
    Dossier,
    DossierStore,
    MoveRefused,
    Role,
    VersionConflict,
    Workflow,
)
from etatmachine.business_calendar import PARIS
from etatmachine.effects import Effect


@dataclass
class ClaimsDesk:
    """Opens files, applies moves with an optimistic lock, and queues the effects."""

    workflow: Workflow = field(default_factory=Workflow.default)
    files: DossierStore = field(default_factory=DossierStore)
    outbox: list[Effect] = field(default_factory=list)

    def open(self, dossier_id: str, *, at: datetime, **attributes: Any) -> Dossier:
        system = Actor(role=Role.SYSTEM, id="996", name="ASIGNACIÓN AUTOMÁTICA ZONAL")
        dossier, effects = self.workflow.open(dossier_id, actor=system, at=at, **attributes)
        self.files.add(dossier)
        self.outbox.extend(effects)
        return dossier

    def request(
        self, dossier_id: str, to: str, *, version: int, actor: Actor, at: datetime, **inputs: Any
    ) -> str:
        """Apply one move asked for by a screen that read the file at ``version``."""
        current = self.files.get(dossier_id)
        if current.version != version:  # someone moved the file since the screen read it
            raise VersionConflict(dossier_id, version, current.version)
        try:
            moved, effects = self.workflow.move(current, to, actor=actor, at=at, **inputs)
        except MoveRefused as refusal:
            self.outbox.extend(refusal.effects)
            return "refusé : " + " ; ".join(
                f"[{v.rule}] {v.message_fr}" for v in refusal.violations
            )
        self.files.put(moved, expected_version=version)  # compare-and-set: no lost move
        self.outbox.extend(effects)
        return f"ok : {moved.state}, échéance {moved.due_at:%d/%m/%Y %H:%M}"


def demo() -> list[str]:
    """A day at the desk.

    >>> for line in demo():
    ...     print(line)
    ouvert : contact_client_devis, échéance 07/03/2023 09:30
    refusé : [appointment_too_far] RDV à plus de 7 jours (2023-03-20) : utiliser la date d'action « premiere_visite_plus_7j » si c'est la demande du client.
    ok : premiere_visite, échéance 08/03/2023 14:00
    ok : etude_devis, échéance 13/03/2023 10:00
    ok : demande_traitement_devis, échéance 13/03/2023 10:00
    conflit : dossier SIN-1: expected version 2, store has 3; reload it and replay the move
    effets : relaunch_surveyor
    """
    desk = ClaimsDesk()
    d = desk.open("SIN-1", at=datetime(2023, 3, 6, 9, 30, tzinfo=PARIS), insurer="MAIF")
    lines = [f"ouvert : {d.state}, échéance {d.due_at:%d/%m/%Y %H:%M}"]
    contractor = Actor(role=Role.CONTRACTOR, id="995", name="INTERNET")
    insurer = Actor(role=Role.INSURER, id="MAIF")
    # a visit 14 days out, without saying the insured asked for it: refused, file unchanged
    lines.append(
        desk.request(
            "SIN-1",
            "Première visite",
            version=0,
            actor=contractor,
            at=datetime(2023, 3, 6, 16, 0, tzinfo=PARIS),
            data={"appointment_at": "2023-03-20T09:00:00+01:00"},
        )
    )
    lines.append(
        desk.request(
            "SIN-1",
            "Première visite",
            version=0,
            actor=contractor,
            at=datetime(2023, 3, 6, 16, 5, tzinfo=PARIS),
            data={"appointment_at": datetime(2023, 3, 8, 14, 0, tzinfo=PARIS)},
        )
    )
    lines.append(
        desk.request(
            "SIN-1",
            "Etude de devis",
            version=1,
            actor=contractor,
            at=datetime(2023, 3, 9, 10, 0, tzinfo=PARIS),
        )
    )
    # the insurer chases while the surveyor's 48 business hours still run
    lines.append(
        desk.request(
            "SIN-1",
            "Demande traitement Devis par Cie/Ass",
            version=2,
            actor=insurer,
            at=datetime(2023, 3, 10, 11, 0, tzinfo=PARIS),
        )
    )
    try:  # a screen still showing version 2
        desk.request(
            "SIN-1",
            "devis_demande_info",
            version=2,
            actor=contractor,
            at=datetime(2023, 3, 10, 12, 0, tzinfo=PARIS),
        )
    except VersionConflict as conflict:
        lines.append(f"conflit : {conflict}")
    lines.append("effets : " + ", ".join(e.kind for e in desk.outbox))
    return lines


if __name__ == "__main__":
    print("\n".join(demo()))
