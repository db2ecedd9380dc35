"""The parser and the replay build their models without pydantic validation: prove them valid.

For records of every kind (and the authors and parties inside them), and for the replay's
reports, entries, violations, summaries and lateness steps, validating the model's dump gives
back an equal model, with the same fields in the same order and the same fields-set: what
validation would have built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from etatmachine.legacy import (
    Author,
    MessageRecord,
    Party,
    Record,
    RecordAdapter,
    RoleMap,
    iter_file,
    parse_text,
)
from etatmachine.replay import ReplayReport, iter_replays, replay_file
from etatmachine.replay.engine import _Replayer, _Setup
from etatmachine.roles import Role
from etatmachine.workflow import Workflow

ROOT = Path(__file__).resolve().parents[1]
SEED = Path(__file__).parent / "data" / "seed.txt"
EXAMPLES = sorted((ROOT / "examples" / "histories").glob("*.txt"))

# Every record kind, including the unrecognised ones and the optional fields of an ETAT entry.
EXTRA = """\
ETAT: En attente de fournitures. Semaine: 14. 31/03/2023 09:00 (21/03/2023-N°4)
21.03.2023-13:24-(1002730) JULIE .

ETAT: En attente de séchage (45). % d'humidité 60. 05/04/2023 17:00
ETAT: X (2) 19/01/2023 25:04
31.02.2023-10:00-(995) INTERNET

garbage\x00\x01\x02
MESSAGE DE personne
MESSAGE DE .(72a3181) WAKENSON MENUISERIES (PRESTATAIRE)
POUR: (1002730) JULIE (M.A.)
REMIS DE: 07.02.2023-16:54-(1002730) JULIE
le corps du message
Intervention sous-assignée à: - [47269] NYCO DECO
"""

KINDS = {
    "etat",
    "author",
    "opening",
    "autonomy_limit",
    "realisation",
    "assignment",
    "sub_assignment",
    "action",
    "message",
    "contact",
    "control",
    "mensaje",
    "note",
    "unrecognised",
}


def _records() -> list[Record]:
    records: list[Record] = list(iter_file(SEED))
    for path in EXAMPLES:
        records.extend(iter_file(path))
    records.extend(parse_text(EXTRA, roles=RoleMap(roles={"1002730": Role.SURVEYOR})).records)
    return records


def _same(built: BaseModel, validated: BaseModel) -> None:
    assert type(validated) is type(built)
    assert validated == built
    assert list(validated.__dict__) == list(built.__dict__)  # field order: dumps, reprs
    assert validated.model_fields_set == built.model_fields_set
    assert validated.__pydantic_extra__ == built.__pydantic_extra__
    assert validated.__pydantic_private__ == built.__pydantic_private__
    for name, value in built.__dict__.items():
        if isinstance(value, BaseModel):
            _same(value, getattr(validated, name))


def _validated(model: BaseModel) -> Any:
    """``model`` rebuilt through validation from the arguments its fields-set says it had."""
    args = {name: getattr(model, name) for name in model.model_fields_set}
    return type(model).model_validate(args)


def test_every_kind_is_covered() -> None:
    assert {r.kind for r in _records()} == KINDS


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_trusted_records_validate_to_themselves(kind: str) -> None:
    records = [r for r in _records() if r.kind == kind]
    assert records
    for record in records:
        assert RecordAdapter.validate_python(record.model_dump()) == record
        assert RecordAdapter.validate_json(RecordAdapter.dump_json(record)) == record
        _same(record, _validated(record))
        nested: list[BaseModel] = [record.author] if record.author is not None else []
        if isinstance(record, MessageRecord):
            nested += [p for p in (record.sender, record.recipient, record.delivered) if p]
        for model in nested:
            assert isinstance(model, Author | Party)
            _same(model, _validated(model))
            assert type(model).model_validate(model.model_dump()) == model


def test_trusted_records_are_frozen() -> None:
    record = _records()[0]
    with pytest.raises(ValueError, match="frozen"):
        record.first_line = 2  # type: ignore[misc]


def _same_report(report: ReplayReport) -> None:
    assert ReplayReport.model_validate(report.model_dump()) == report
    assert ReplayReport.model_validate_json(report.model_dump_json()) == report
    _same(report, _validated(report))
    _same(report.summary, _validated(report.summary))
    for entry in report.entries:
        _same(entry, _validated(entry))
        for violation in entry.violations:
            _same(violation, _validated(violation))
    for lines in report.unrecognised:
        _same(lines, _validated(lines))


@pytest.mark.parametrize("path", [SEED, *EXAMPLES], ids=lambda p: p.name)
def test_trusted_replay_models_validate_to_themselves(path: Path) -> None:
    report = replay_file(path, insurer="ALLIANZ", channel="sinapps")
    assert report.entries
    _same_report(report)
    wf = Workflow.default()
    replayer = _Replayer(wf, "d", str(path), _Setup(wf, wf.file_attributes()))
    for record in iter_file(path):
        replayer.feed(record)
    # the replay keeps each closed step's figures only (no `Step` model): one per closing entry
    seconds = [figures[3] for figures in replayer.steps]
    closing = [e.lateness_business_seconds for e in report.entries if e.closes is not None]
    assert seconds == closing


def test_trusted_replay_of_odd_entries() -> None:
    records = parse_text(EXTRA + "ETAT: Libellé inconnu (3) 20/03/2023 10:00\n").records
    (report,) = iter_replays(records)
    assert {e.verdict for e in report.entries} >= {"unresolved"}
    assert report.unrecognised
    _same_report(report)


def _model_classes(cls: type[BaseModel]) -> list[type[BaseModel]]:
    found = []
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("etatmachine."):
            found.append(sub)
        found.extend(_model_classes(sub))
    return found


def test_no_model_defines_new_so_trusted_may_call_object_new() -> None:
    """`trusted` builds an instance with ``object.__new__(cls)``: what ``cls.__new__(cls)``
    is for every model of the package as long as none defines ``__new__``."""
    import etatmachine.dossier
    import etatmachine.lateness
    import etatmachine.legacy
    import etatmachine.replay
    import etatmachine.rules  # noqa: F401

    models = _model_classes(BaseModel)
    assert len(models) > 20
    for model in models:
        assert model.__new__ is object.__new__, model


@pytest.mark.parametrize("path", [SEED, *EXAMPLES], ids=lambda p: p.name)
def test_the_judges_entries_are_the_entries_validation_builds(path: Path) -> None:
    """The judge builds each move's history entry itself (compiled, with
    ``object.__setattr__``): every slot set, equal to the entry `HistoryEntry` validates from
    its dump, and to the one `dossier.trusted_entry` builds from the same values."""
    from etatmachine.dossier import HistoryEntry, trusted_entry

    wf = Workflow.default()
    replayer = _Replayer(wf, "d", str(path), _Setup(wf, wf.file_attributes()))
    for record in iter_file(path):
        replayer.feed(record)
    assert replayer.dossier is not None
    entries = replayer.dossier.history
    assert entries
    for entry in entries:
        assert type(entry) is HistoryEntry
        fields = {name: getattr(entry, name) for name in HistoryEntry.__slots__}
        assert HistoryEntry.model_validate_json(entry.model_dump_json()) == entry
        assert trusted_entry(**fields) == entry
        assert hash(trusted_entry(**fields)) == hash(entry)


def test_the_judges_entry_builder_sets_each_field_from_its_argument() -> None:
    """Each slot from its own argument (distinct values: a swap would show), in either build;
    the entry stays frozen."""
    from datetime import UTC, datetime

    from etatmachine import judge
    from etatmachine.dossier import Actor, FrozenData, trusted_entry

    at, due = datetime(2024, 3, 4, 9, tzinfo=UTC), datetime(2024, 3, 5, 9, tzinfo=UTC)
    actor = Actor(role=Role.CONTRACTOR, id="c1")
    args = ("move", "a_source", "a_target", at, actor, "a comment", due, FrozenData({"k": 1}))
    entry = judge._trusted_entry(*args)  # type: ignore[arg-type]
    assert (entry.kind, entry.source, entry.target, entry.at, entry.actor) == args[:5]
    assert (entry.comment, entry.due_at, entry.data) == args[5:]
    assert entry == trusted_entry(*args)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="frozen"):
        entry.comment = "changed"
