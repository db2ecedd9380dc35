"""Apply a change through a store, re-reading, re-judging and re-applying after a conflict.

A service reads a dossier, moves it and writes it back with a compare-and-set; when
another writer won the race the write raises `VersionConflict`. Retrying the same
dossier value would be refused forever, and replaying the move blindly would skip the
rules: these helpers re-read the winner's dossier, judge the move again on it (it may
now be refused: the file was cancelled meanwhile) and apply it, a few times.

The policy for ``at`` (``at_policy``):

``"clamp"`` (the default)
    The change was asked for at ``at``, but the store serialises it after the winner. If
    the winner's last change is later than ``at`` by at most ``max_skew`` (a race between
    requests in flight), the change is judged and recorded at the winner's instant: the
    trail stays in time order and a due date counted from ``at`` never starts before the
    state it leaves. A winner later than ``at + max_skew`` means the request is stale:
    it is judged at ``at`` and refused ``out_of_order``.
``"strict"``
    Always judged at ``at``: behind a later winner the move is refused ``out_of_order``.

With an ``idempotency_key`` the change applies once: a retry of the same request (after a
timeout, a crash of the caller) returns the first result, ``Applied.replayed`` true; a
retried contact attempt is not counted twice. A refused move's effects (the complaint a
late chase owes) are queued in the outbox before `MoveRefused` propagates.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from etatmachine.business_calendar import require_aware
from etatmachine.dossier import Actor, Dossier
from etatmachine.errors import MoveRefused, VersionConflict
from etatmachine.store.protocol import Applied, Store
from etatmachine.workflow import Moved

__all__ = [
    "DEFAULT_ATTEMPTS",
    "DEFAULT_MAX_SKEW",
    "AtPolicy",
    "apply_with_retry",
    "contact_attempt",
    "move",
    "reschedule",
]

AtPolicy = Literal["clamp", "strict"]
DEFAULT_ATTEMPTS = 20
DEFAULT_MAX_SKEW = timedelta(minutes=5)
"""How far after ``at`` a winner may be for the change still to count as racing it."""

Change = Callable[[Dossier, datetime], Moved]
"""A change judged on the current dossier at an instant: a workflow call."""


def _when(current: Dossier, at: datetime, policy: AtPolicy, max_skew: timedelta) -> datetime:
    last = current.last_at
    if policy == "clamp" and last is not None and at < last <= at + max_skew:
        return last
    return at


def apply_with_retry(
    store: Store,
    dossier_id: str,
    change: Change,
    *,
    at: datetime,
    idempotency_key: str | None = None,
    at_policy: AtPolicy = "clamp",
    max_skew: timedelta = DEFAULT_MAX_SKEW,
    attempts: int = DEFAULT_ATTEMPTS,
) -> Applied:
    """Read, judge ``change`` at the instant the policy gives, write; again on a conflict.

    Raises `MoveRefused` when the change is refused on the current dossier (its effects
    queued first), and the last `VersionConflict` after ``attempts`` lost races.
    """
    require_aware(at, "at")
    if at_policy not in ("clamp", "strict"):
        raise ValueError(f"at_policy must be 'clamp' or 'strict', got {at_policy!r}")
    if idempotency_key is not None:
        hit = store.applied(idempotency_key)
        if hit is not None:
            return hit
    for attempt in range(attempts):
        current = store.get(dossier_id)
        try:
            moved = change(current, _when(current, at, at_policy, max_skew))
        except MoveRefused as refused:
            if refused.effects:
                store.record_effects(refused.effects)
            raise
        try:
            return store.apply(
                moved.dossier, current.version, moved.effects, idempotency_key=idempotency_key
            )
        except VersionConflict:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, 0.001 * min(2**attempt, 32)))  # jitter: racers spread out
    raise AssertionError("unreachable")  # pragma: no cover


def move(
    store: Store,
    dossier_id: str,
    to: str,
    *,
    actor: Actor,
    at: datetime,
    comment: str | None = None,
    due: datetime | None = None,
    data: Mapping[str, Any] | None = None,
    **retry: Any,
) -> Applied:
    """`Workflow.move` through the store, retried (keywords of `apply_with_retry`)."""
    wf = store.workflow
    return apply_with_retry(
        store,
        dossier_id,
        lambda d, when: wf.move(d, to, actor=actor, at=when, comment=comment, due=due, data=data),
        at=at,
        **retry,
    )


def reschedule(
    store: Store,
    dossier_id: str,
    due: datetime,
    *,
    actor: Actor,
    at: datetime,
    comment: str | None = None,
    **retry: Any,
) -> Applied:
    """`Workflow.reschedule` through the store, retried."""
    wf = store.workflow
    return apply_with_retry(
        store,
        dossier_id,
        lambda d, when: wf.reschedule(d, due, actor=actor, at=when, comment=comment),
        at=at,
        **retry,
    )


def contact_attempt(
    store: Store,
    dossier_id: str,
    *,
    actor: Actor,
    at: datetime,
    comment: str | None = None,
    **retry: Any,
) -> Applied:
    """`Workflow.record_contact_attempt` through the store, retried (send a key: a
    retried request must not count a second attempt)."""
    wf = store.workflow
    return apply_with_retry(
        store,
        dossier_id,
        lambda d, when: wf.record_contact_attempt(d, actor=actor, at=when, comment=comment),
        at=at,
        **retry,
    )
