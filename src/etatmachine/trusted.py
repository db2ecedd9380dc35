"""Models built from values already checked, without running pydantic's validation again.

The workflow, the replay and the lateness statistics build many small frozen models from
values they hold in their final types (checked text, aware datetimes, Role members, ints and
floats they computed, tuples of models they built). Validation would only copy them.
`trusted` sets the fields as `BaseModel.model_construct` does, without its per-field loop:
``values`` holds every field in declaration order, ``fields_set`` the fields validation
would have been given (by default all of them). Only the module that proved the values
calls it for its own models; tests/test_trusted_models.py checks that validating the dump
of each such model gives back an equal one.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["trusted"]

_M = TypeVar("_M", bound=BaseModel)
_set = object.__setattr__


def trusted(cls: type[_M], values: dict[str, Any], fields_set: set[str] | None = None) -> _M:
    """An instance of ``cls`` holding ``values`` (every field, in order), unvalidated."""
    obj = cls.__new__(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", set(values) if fields_set is None else fields_set)
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj
