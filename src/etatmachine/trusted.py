"""Models built from values already checked, without running pydantic's validation again.

The workflow, the replay and the lateness statistics build many small frozen models from
values they hold in their final types (checked text, aware datetimes, Role members, ints and
floats they computed, tuples of models they built). Validation would only copy them.
`trusted` sets the fields as `BaseModel.model_construct` does, without its per-field loop:
``values`` holds every field in declaration order, ``fields_set`` the fields validation
would have been given (by default all of them). Only the module that proved the values
calls it for its own models; tests/test_trusted_models.py checks that validating the dump
of each such model gives back an equal one. ``fields_set`` may be any set (a shared
frozenset subclass included): it is stored as given.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any, Final, TypeVar

from pydantic import BaseModel

__all__ = ["trusted"]

_M = TypeVar("_M", bound=BaseModel)
# The four slots every pydantic model has, set through their descriptors (half the cost of
# object.__setattr__, which looks each one up first).
_SLOT: Final = BaseModel.__dict__
_set_dict: Final = _SLOT["__dict__"].__set__
_set_fields_set: Final = _SLOT["__pydantic_fields_set__"].__set__
_set_extra: Final = _SLOT["__pydantic_extra__"].__set__
_set_private: Final = _SLOT["__pydantic_private__"].__set__
# A model defines no ``__new__`` of its own: ``cls.__new__`` is ``object.__new__``, whose
# direct call skips that lookup (a fifth of the cost).
_new: Final = object.__new__


def trusted(cls: type[_M], values: dict[str, Any], fields_set: Set[str] | None = None) -> _M:
    """An instance of ``cls`` holding ``values`` (every field, in order), unvalidated."""
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields_set(obj, set(values) if fields_set is None else fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj
