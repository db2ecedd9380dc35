"""Fields-sets many pydantic values share: one per shape of value, not one per value.

A pydantic model remembers which fields it was given (``model_fields_set``). The parser's
records and the dossiers, entries and models built without validation (`etatmachine.trusted`)
each get the set of their shape, shared with every value of that shape: a frozen set, so
nobody can change what every sharer says, whose copy is a plain set, so
``model_copy(update=...)`` still gets one it may update. It saves ~700 B a value. A plain
module: mypyc compiles no subclass of a builtin.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["FieldsSet", "shared"]


class FieldsSet(frozenset[str]):
    """A frozen fields-set many records share; ``copy.copy`` gives a plain set."""

    __slots__ = ()

    def __copy__(self) -> set[str]:
        return set(self)


_SHARED: dict[frozenset[str], FieldsSet] = {}  # bounded: models have a few dozen shapes


def shared(names: Iterable[str]) -> FieldsSet:
    """The one `FieldsSet` of these names.

    >>> shared(["a", "b"]) is shared({"b", "a"})
    True
    """
    key = frozenset(names)
    hit = _SHARED.get(key)
    if hit is None:
        hit = _SHARED.setdefault(key, FieldsSet(key))
    return hit
