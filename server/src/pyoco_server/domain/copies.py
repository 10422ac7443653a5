"""Copies of frozen, slotted dataclasses with some fields changed, for the worker's hot path.

`dataclasses.replace` looks the class's fields up, builds a dict of every field and calls
`__init__` on each call: on `RunSnapshot` (40 fields) that is most of what a change of a run
costs, and a run changes several times in the worker's supervisor. `replacer(cls)` generates,
once, a function that copies each field straight into a new instance and applies the changes,
field by field through its slot, in the class's order: the same result for classes without
`__post_init__` or `init=False` fields (`replacer` refuses others), at a fifth of the cost.
`slot_setters` gives the same slots to other generated code (codec.py's decoders).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def replacer(cls: type[T]) -> Callable[..., T]:
    """`replace(obj, **changes)`: a copy of `obj` (a `cls`) with `changes` (TypeError on others).

    `cls` must be a frozen dataclass with slots, without `__post_init__` or `init=False` fields.
    """
    fields = _copyable_fields(cls)
    lines = ["def replace(self, /, **changes):", "    new = _new(_cls)"]
    lines += [
        f"    _set{i}(new, changes.pop({f.name!r}) if {f.name!r} in changes else self.{f.name})"
        for i, f in enumerate(fields)
    ]
    lines += [
        "    if changes:",
        f"        raise TypeError(f'{cls.__name__} has no field(s) {{sorted(changes)}}')",
        "    return new",
    ]
    replace: Callable[..., T] = _compiled(cls, fields, lines)["replace"]
    replace.__qualname__ = f"replacer({cls.__name__})"
    return replace


def pickled_by_slots(cls: type[T]) -> type[T]:
    """Class decorator: `cls` pickles as the tuple of its fields, restored through its slots.

    For a frozen dataclass with slots (as `replacer` takes). What dataclasses give such a class
    looks its fields up on every pickle and unpickle; the worker pickles every job it sends to
    a run process, which unpickles it: these take about half as long. The state is only ever
    read by the same code (a run process of the worker that wrote it), never stored.
    """
    fields = _copyable_fields(cls)
    values = "".join(f"self.{field.name}, " for field in fields)
    lines = ["def __getstate__(self):", f"    return ({values})"]
    lines += ["def __setstate__(self, state):"]
    lines += [f"    _set{i}(self, state[{i}])" for i in range(len(fields))]
    namespace = _compiled(cls, fields, lines)
    for name in ("__getstate__", "__setstate__"):
        method = namespace[name]
        method.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method)
    return cls


def slot_setters(cls: type[Any]) -> dict[str, Callable[[Any, Any], None]] | None:
    """Each field's slot setter, for code that builds a `cls` without its `__init__`.

    None unless `cls` is a frozen dataclass with slots, without `__post_init__` or `init=False`
    fields: for those, setting every field through its slot (`object.__new__`, then the setters
    in the fields' order) makes what `__init__` makes, at about half the cost (a slot's own
    setter skips the attribute lookup of the frozen `__init__`'s `object.__setattr__`).
    """
    try:
        fields = _copyable_fields(cls)
    except TypeError:
        return None
    return {field.name: _slot(cls, field.name).__set__ for field in fields}


def _copyable_fields(cls: type[Any]) -> tuple[dataclasses.Field[Any], ...]:
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass with slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__, which a copy would skip")
    fields = dataclasses.fields(cls)
    if not all(field.init for field in fields):
        raise TypeError(f"{cls.__name__} has init=False fields, which replace refuses")
    return fields


def _slot(cls: type[Any], name: str) -> Any:
    """The slot (a member descriptor) holding field `name` of `cls` or of a base class."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            slot = klass.__dict__[name]
            if isinstance(slot, types.MemberDescriptorType):
                return slot
            break
    raise TypeError(f"{cls.__name__}.{name} is not held in a slot")


def _compiled(
    cls: type[Any], fields: tuple[dataclasses.Field[Any], ...], lines: list[str]
) -> dict[str, Any]:
    """The namespace after running `lines`, which see `_new`, `_cls` and `_set<i>`."""
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    for i, field in enumerate(fields):
        namespace[f"_set{i}"] = _slot(cls, field.name).__set__
    exec("\n".join(lines), namespace)  # the text is made of the class's field names
    return namespace
