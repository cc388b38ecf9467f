"""The policy sets the service answers for, by name.

The sets come from documents: the shipped library (``policies/library/``) and any folders a
payer adds (``INJTRACK_POLICY_DIRS``). ``use(library)`` swaps every set at once: a request
sees either the old sets or the new ones, never a mix. Loading happens on first use when
nobody loaded explicitly.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from policies.engine import PolicySet, UnknownPolicySet
from policies.loader import LIBRARY, Library, load_library

_lock = threading.Lock()
_sets: Mapping[str, PolicySet] | None = None
_folders: tuple[Path, ...] = (LIBRARY,)


def folders_with(extra: Sequence[Path]) -> tuple[Path, ...]:
    """The shipped library followed by ``extra`` folders."""
    folders = dict.fromkeys([LIBRARY.resolve(), *(Path(p).resolve() for p in extra)])
    return tuple(folders)


def load(extra: Sequence[Path] = ()) -> Library:
    """Load the shipped library and ``extra`` folders and serve them (raises
    :class:`~policies.loader.PolicyLoadError`, serving the previous sets, when a document is
    wrong)."""
    folders = folders_with(extra)
    library = load_library(folders)
    use(library)
    return library


def reload() -> Library:
    """Load the same folders again and swap every set at once."""
    return load(_folders[1:])


def use(library: Library) -> None:
    global _sets, _folders
    with _lock:
        _sets = MappingProxyType(dict(library.sets))
        _folders = library.folders


def sets() -> Mapping[str, PolicySet]:
    current = _sets
    if current is None:
        with _lock:
            if _sets is None:
                library = load_library(_folders)
                globals()["_sets"] = MappingProxyType(dict(library.sets))
            current = _sets
    assert current is not None
    return current


def folders() -> tuple[Path, ...]:
    return _folders


def get(name: str) -> PolicySet:
    current = sets()
    try:
        return current[name]
    except KeyError:
        raise UnknownPolicySet(name, current) from None


def all_sets() -> list[PolicySet]:
    return list(sets().values())
