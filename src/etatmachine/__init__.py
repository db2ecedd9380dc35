"""etatmachine: the action dates of a French claims back office as a rule-checked machine.

>>> from etatmachine import Workflow
>>> len(Workflow.default().catalogue) > 40
True
"""

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
