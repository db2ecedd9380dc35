"""etatmachine: the action dates of a French claims back office as a rule-checked machine.

>>> from etatmachine import Workflow
>>> len(Workflow.default().catalogue) > 40
True

The public names load on first use (PEP 562), so ``etatmachine --version`` and
``--help`` start without importing pydantic, transitions or the catalogue.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - what the lazy names below resolve to
    from etatmachine.catalogue import Catalogue, StateSpec, default_catalogue, load_catalogue
    from etatmachine.dossier import Actor, Dossier, HistoryEntry
    from etatmachine.errors import (
        ArgumentTypeError,
        ArgumentValueError,
        CatalogueError,
        DateRangeError,
        DossierInvalid,
        EtatmachineError,
        MoveRefused,
        NaiveDatetimeError,
        UnknownStateError,
        VersionConflict,
    )
    from etatmachine.labels import resolve
    from etatmachine.roles import Role
    from etatmachine.store import DossierStore
    from etatmachine.violations import Violation
    from etatmachine.workflow import Moved, Verdict, Workflow

__all__ = [
    "Actor",
    "ArgumentTypeError",
    "ArgumentValueError",
    "Catalogue",
    "CatalogueError",
    "DateRangeError",
    "Dossier",
    "DossierInvalid",
    "DossierStore",
    "EtatmachineError",
    "HistoryEntry",
    "MoveRefused",
    "Moved",
    "NaiveDatetimeError",
    "Role",
    "StateSpec",
    "UnknownStateError",
    "Verdict",
    "VersionConflict",
    "Violation",
    "Workflow",
    "default_catalogue",
    "load_catalogue",
    "resolve",
]

__version__ = "0.1.0"

_HOMES = {
    "Catalogue": "catalogue",
    "StateSpec": "catalogue",
    "default_catalogue": "catalogue",
    "load_catalogue": "catalogue",
    "Actor": "dossier",
    "Dossier": "dossier",
    "HistoryEntry": "dossier",
    "ArgumentTypeError": "errors",
    "ArgumentValueError": "errors",
    "CatalogueError": "errors",
    "DateRangeError": "errors",
    "DossierInvalid": "errors",
    "EtatmachineError": "errors",
    "MoveRefused": "errors",
    "NaiveDatetimeError": "errors",
    "UnknownStateError": "errors",
    "VersionConflict": "errors",
    "resolve": "labels",
    "Role": "roles",
    "DossierStore": "store",
    "Violation": "violations",
    "Moved": "workflow",
    "Verdict": "workflow",
    "Workflow": "workflow",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module the first time the name is read."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'etatmachine' has no attribute {name!r}")
    value = getattr(import_module(f"etatmachine.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
