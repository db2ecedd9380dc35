"""A back-office service on the etatmachine store, with no persistence code of its own.

Everything a service used to write itself (a table per concern, a compare-and-set, a
retry on conflicts, an outbox and its relay, a "what is due now" query) is the store's:
the service turns requests into moves, hands effects to whoever performs them, and asks
the worklist what each desk must do. Written against docs/store.md. Run it:
``python examples/store_service.py [DATABASE_URL]`` (default: SQLite in memory).
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Any

from etatmachine import Actor, MoveRefused, Role
from etatmachine.business_calendar import PARIS
from etatmachine.effects import Effect
from etatmachine.store import Store, open_store, retry


class ClaimsService:
    """Requests in, moves applied once, effects relayed at least once."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.delivered: list[str] = []

    def open(self, dossier_id: str, *, at: datetime, **attributes: Any) -> str:
        system = Actor(role=Role.SYSTEM, id="996", name="ASIGNACIÓN AUTOMÁTICA ZONAL")
        moved = self.store.workflow.open(dossier_id, actor=system, at=at, **attributes)
        self.store.add(moved.dossier, moved.effects, idempotency_key=f"open:{dossier_id}")
        return f"ouvert : {moved.dossier.state}"

    def request(self, request_id: str, dossier_id: str, to: str, **inputs: Any) -> str:
        """One screen's request; ``request_id`` makes a resent request apply once."""
        try:
            result = retry.move(self.store, dossier_id, to, idempotency_key=request_id, **inputs)
        except MoveRefused as refusal:  # its effects (a complaint) are queued already
            return "refusé : " + ", ".join(refusal.rules)
        again = " (déjà fait)" if result.replayed else ""
        return f"ok : {result.dossier.state} v{result.dossier.version}{again}"

    def deliver(self, effect: Effect) -> None:
        """Whatever performs effects; it must be idempotent (at-least-once delivery)."""
        self.delivered.append(f"{effect.kind} {effect.dossier_id}")

    def relay(self) -> int:
        """One pass of the outbox relay: claim, perform, acknowledge."""
        messages = self.store.claim("relay-1", limit=50)
        for message in messages:
            self.deliver(message.effect)
        self.store.ack(m.id for m in messages)
        return len(messages)


def demo(url: str = "sqlite://") -> list[str]:
    """A day at the desk.

    >>> for line in demo():
    ...     print(line)
    ouvert : contact_client_devis
    ok : premiere_visite v1
    ok : etude_devis v2
    ok : demande_traitement_devis v3
    ok : demande_traitement_devis v3 (déjà fait)
    ok : devis_demande_info v4
    refusé : deadline_passed
    relais : 2 effets
    livré : relaunch_surveyor SIN-1
    livré : complaint_to_open SIN-2
    relais : 0 effets
    bureau métreur : SIN-2 overdue
    bureau entreprise : SIN-1 due_soon
    """
    service = ClaimsService(open_store(url))
    contractor = Actor(role=Role.CONTRACTOR, id="995", name="INTERNET")
    insurer = Actor(role=Role.INSURER, id="MAIF")
    surveyor = Actor(role=Role.SURVEYOR, id="1002688", name="TANGUY TELLIER")
    monday = datetime(2023, 3, 6, 9, 30, tzinfo=PARIS)
    lines = [service.open("SIN-1", at=monday, insurer="MAIF")]
    service.open("SIN-2", at=monday, insurer="MAIF")
    visit = {"appointment_at": datetime(2023, 3, 8, 14, 0, tzinfo=PARIS)}
    for request_id, to, actor, at, extra in (
        ("r1", "Première visite", contractor, monday + timedelta(hours=6), {"data": visit}),
        ("r2", "Etude de devis", contractor, monday + timedelta(days=3), {}),
        ("r3", "Demande traitement Devis par Cie/Ass", insurer, monday + timedelta(days=4), {}),
        ("r3", "Demande traitement Devis par Cie/Ass", insurer, monday + timedelta(days=4), {}),
        ("r4", "devis_demande_info", surveyor, monday + timedelta(days=4, hours=1), {}),
    ):
        lines.append(service.request(request_id, "SIN-1", to, actor=actor, at=at, **extra))
    # SIN-2 reaches the surveyor, who lets the 48 business hours run out: a chase is late
    service.request("s1", "SIN-2", "Première visite", actor=contractor, at=monday, data=visit)
    service.request(
        "s2", "SIN-2", "Etude de devis", actor=contractor, at=monday + timedelta(days=1)
    )
    late = monday + timedelta(days=7)
    lines.append(service.request("s3", "SIN-2", "demande_traitement_devis", actor=insurer, at=late))
    lines.append(f"relais : {service.relay()} effets")
    lines += [f"livré : {d}" for d in service.delivered]
    lines.append(f"relais : {service.relay()} effets")
    for desk, role in (("métreur", "surveyor"), ("entreprise", "contractor")):
        for item in service.store.worklist(at=late, role=role, within=timedelta(hours=48)):
            lines.append(f"bureau {desk} : {item.dossier_id} {item.urgency.value}")
    return lines


if __name__ == "__main__":
    print("\n".join(demo(*sys.argv[1:2])))
