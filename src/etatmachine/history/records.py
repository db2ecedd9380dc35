"""The records a parsed history is made of, and the role map that says who signed them.

Everything a user of the parser reads lives here: frozen pydantic records (one class per
``kind``, `Record` discriminating them), the problems, the whole-history view and the role
map. No parsing logic: the engine (`etatmachine.history.parser`) builds these models, and
pydantic models cannot live in a module compiled with mypyc.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from etatmachine.errors import EtatmachineError
from etatmachine.roles import Role

__all__ = [
    "BUILTIN_ROLES",
    "ActionRecord",
    "AssignmentRecord",
    "Author",
    "AuthorRecord",
    "AutonomyLimitRecord",
    "ContactRecord",
    "ControlRecord",
    "EtatRecord",
    "MensajeRecord",
    "MessageRecord",
    "NoteRecord",
    "OpeningRecord",
    "ParseProblem",
    "ParsedHistory",
    "Party",
    "RealisationRecord",
    "Record",
    "RecordAdapter",
    "RoleMap",
    "RoleMapError",
    "SubAssignmentRecord",
    "UnrecognisedRecord",
]

# ---------------------------------------------------------------------------------------------
# Roles


class RoleMapError(EtatmachineError, ValueError):
    """A role-map file is unreadable or names an unknown role; names the file and the key."""

    def __init__(self, message: str, *, file: str, key: str | None = None) -> None:
        self.file = file
        self.key = key
        where = f"{file}: key {key!r}" if key is not None else file
        super().__init__(f"{where}: {message}")


BUILTIN_ROLES: Mapping[str, Role] = MappingProxyType(
    {"995": Role.CONTRACTOR, "996": Role.SYSTEM, "007": Role.SYSTEM}
)
"""(995) INTERNET is the contractors' extranet; (996) and (007) are automatic processes."""


@dataclass(frozen=True, slots=True)
class RoleMap:
    """Who a user id is: the seed names no staff roles, so staff default to case handlers.

    ``roles`` overrides :data:`BUILTIN_ROLES` (merged in); ``anonymous`` is the role of a bare
    timestamp signature (no id: an automatic stamp such as an extranet acceptance).
    """

    roles: Mapping[str, Role] = field(default_factory=dict)
    default: Role = Role.CASE_HANDLER
    anonymous: Role = Role.SYSTEM

    def __post_init__(self) -> None:
        merged = {**BUILTIN_ROLES, **{str(k): Role(v) for k, v in self.roles.items()}}
        object.__setattr__(self, "roles", MappingProxyType(merged))

    def role_of(self, user_id: str | None) -> Role:
        """The role of ``user_id`` (``None``: an anonymous stamp)."""
        if user_id is None:
            return self.anonymous
        return self.roles.get(user_id, self.default)

    @classmethod
    def from_toml(cls, path: str | Path) -> RoleMap:
        """Load ``default = "..."``, ``anonymous = "..."`` and a ``[roles]`` table id → role."""
        name = str(path)
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise RoleMapError(f"cannot read role map: {exc}", file=name) from exc
        except tomllib.TOMLDecodeError as exc:
            raise RoleMapError(f"invalid TOML: {exc}", file=name) from exc
        unknown = sorted(set(data) - {"default", "anonymous", "roles"})
        if unknown:
            raise RoleMapError(
                "unknown key (expected default, anonymous, roles)", file=name, key=unknown[0]
            )

        def role(key: str, value: Any) -> Role:
            try:
                return Role(value)
            except ValueError:
                allowed = ", ".join(r.value for r in Role)
                raise RoleMapError(
                    f"unknown role {value!r} (expected one of: {allowed})", file=name, key=key
                ) from None

        table = data.get("roles", {})
        if not isinstance(table, dict):
            raise RoleMapError("must be a table of user id = role", file=name, key="roles")
        return cls(
            roles={str(k): role(f"roles.{k}", v) for k, v in table.items()},
            default=role("default", data.get("default", Role.CASE_HANDLER.value)),
            anonymous=role("anonymous", data.get("anonymous", Role.SYSTEM.value)),
        )


# ---------------------------------------------------------------------------------------------
# Records

_FROZEN = ConfigDict(frozen=True)


class Author(BaseModel):
    """Who wrote a line and when (a signature line, or one embedded in a record)."""

    model_config = _FROZEN

    at: AwareDatetime
    user_id: str | None = None
    name: str | None = None
    role: Role


class Party(BaseModel):
    """A sender or recipient of a MESSAGE: ``(id) NAME (TAG)``, e.g. tag ``M.A.``."""

    model_config = _FROZEN

    user_id: str | None
    name: str | None
    tag: str | None = None
    role: Role


class ParseProblem(BaseModel):
    """A line the parser did not understand; parsing went on."""

    model_config = _FROZEN

    line: int
    message: str
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}: {self.text[:80]!r}"


class _Base(BaseModel):
    """Fields every record has: its exact place in the source and its signature."""

    model_config = _FROZEN

    first_line: int
    last_line: int
    raw: str
    author: Author | None = None


class EtatRecord(_Base):
    """``ETAT:`` a date d'action: label (as written), due date, comment, set date and counter."""

    kind: Literal["etat"] = "etat"
    label: str
    n: int | None = None
    due_at: AwareDatetime
    comment: str | None = None
    set_on: date | None = None
    set_number: int | None = None
    humidity: int | None = None
    week: int | None = None


class AuthorRecord(_Base):
    """A signature line that signs nothing (see the attachment rule)."""

    kind: Literal["author"] = "author"
    author: Author


class OpeningRecord(_Base):
    """``OUVERTURE: -dd.mm.yyyy-HH:MM-(id) NAME``: the dossier was opened (signed inline)."""

    kind: Literal["opening"] = "opening"
    author: Author


class AutonomyLimitRecord(_Base):
    """The amount up to which MA may approve a quote alone, with its caveat."""

    kind: Literal["autonomy_limit"] = "autonomy_limit"
    amount: Decimal
    caveat: str | None = None


class RealisationRecord(_Base):
    """``REALISATION: PREMIERE DATE DE REALISATION:dd.mm.yyyy``."""

    kind: Literal["realisation"] = "realisation"
    what: str
    on: date


class AssignmentRecord(_Base):
    """``ASSIGNER: -(id) NAME``: the dossier is assigned to a contractor account."""

    kind: Literal["assignment"] = "assignment"
    assignee_id: str
    assignee_name: str | None = None


class SubAssignmentRecord(_Base):
    """``Intervention sous-assignée à: - [id] NAME dd/mm/yyyy HH:MM``."""

    kind: Literal["sub_assignment"] = "sub_assignment"
    contractor_id: str
    contractor_name: str | None = None
    at: AwareDatetime | None = None


class ActionRecord(_Base):
    """``Action réalisée: ...``; a contractor's acceptance fills the ``contractor_*`` fields."""

    kind: Literal["action"] = "action"
    text: str
    contractor_name: str | None = None
    contractor_id: str | None = None
    accepted_at: AwareDatetime | None = None


class MessageRecord(_Base):
    """``MESSAGE DE`` / ``POUR:`` / ``REMIS DE:`` then the body; ``author`` is the line before."""

    kind: Literal["message"] = "message"
    sender: Party
    recipient: Party | None = None
    delivered: Author | None = None
    body: str = ""


class ContactRecord(_Base):
    """``NTACT n: -Date du contact avec le client: ...`` (truncated ``CONTACT n:``)."""

    kind: Literal["contact"] = "contact"
    number: int
    text: str
    contacted_at: AwareDatetime | None = None


class ControlRecord(_Base):
    """``Dossier contrôlé - ...``: a check by the back office."""

    kind: Literal["control"] = "control"
    text: str
    detail: str


class MensajeRecord(_Base):
    """``Mensaje de id#ref text``: a contractor's message (Spanish-language screen)."""

    kind: Literal["mensaje"] = "mensaje"
    sender: str
    contractor_id: str
    text: str


class NoteRecord(_Base):
    """Free text: call notes, and the procedure prose of mixed documents; lines kept apart."""

    kind: Literal["note"] = "note"
    text: str


class UnrecognisedRecord(_Base):
    """Lines the parser could not read, verbatim, with why (the streaming form of a problem)."""

    kind: Literal["unrecognised"] = "unrecognised"
    text: str
    message: str
    line: int

    @property
    def problem(self) -> ParseProblem:
        """The problem this record reports."""
        return ParseProblem(line=self.line, message=self.message, text=self.text)


Record = Annotated[
    EtatRecord
    | AuthorRecord
    | OpeningRecord
    | AutonomyLimitRecord
    | RealisationRecord
    | AssignmentRecord
    | SubAssignmentRecord
    | ActionRecord
    | MessageRecord
    | ContactRecord
    | ControlRecord
    | MensajeRecord
    | NoteRecord
    | UnrecognisedRecord,
    Field(discriminator="kind"),
]
"""Any record, discriminated on ``kind``."""

RecordAdapter: TypeAdapter[Record] = TypeAdapter(Record)
"""Validates/serialises a :data:`Record` (e.g. ``RecordAdapter.validate_json(...)``)."""


@dataclass(frozen=True, slots=True)
class ParsedHistory:
    """A whole parsed history: records in source order, and the problems among them."""

    records: tuple[Record, ...]
    source: str = "<string>"

    @property
    def problems(self) -> tuple[ParseProblem, ...]:
        """Every unrecognised record as a problem, in line order."""
        return tuple(r.problem for r in self.records if isinstance(r, UnrecognisedRecord))

    @property
    def etats(self) -> tuple[EtatRecord, ...]:
        """The ``ETAT:`` entries, in source order."""
        return tuple(r for r in self.records if isinstance(r, EtatRecord))

    @property
    def line_count(self) -> int:
        """How many input lines the records cover."""
        return self.records[-1].last_line if self.records else 0
