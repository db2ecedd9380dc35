"""From a label as people and legacy histories write it to a state of the catalogue.

Histories spell the procedure's labels many ways: case (``client injoignable``),
desk prefixes (``PT - Devis - …``), a trailing dot (``Etude de devis.``), extra
fields (``En attente de séchage (45). % d'humidité 60.``), dropped little words
(``Date Début Travaux``). `resolve` folds all of these onto one key; an unknown
label raises `UnknownStateError` with the closest candidates, it never guesses.
A label that is not text raises `ArgumentTypeError` (a `TypeError`); this module stays
interpreted in the compiled build, so that error is the same there. Resolution is linear in
the label's length, however many desk prefixes it carries.

>>> resolve("PT - Devis - demande info complémentaire").code
'devis_demande_info'
>>> resolve("En attente de fournitures. Semaine: 14.").code
'attente_fourniture'
>>> resolve("AZ: Appels 24h").code
'az_appel_24h'
"""

from __future__ import annotations

import difflib
import re
import threading
import unicodedata
import weakref
from typing import Final

from etatmachine.catalogue import Catalogue, StateSpec, default_catalogue
from etatmachine.errors import ArgumentTypeError, CatalogueError, UnknownStateError

__all__ = ["label_key", "label_twins", "resolve"]

# Little words that histories drop or add ("de la fourniture" / "de fourniture").
_STOPWORDS: Final = frozenset(
    {"de", "du", "des", "la", "le", "les", "d", "l", "a", "au", "aux", "pour"}
)
# Desk prefixes written before a label in histories ("PT - Devis - …").
_PREFIXES: Final = ("pt", "devi", "re", "az")
_EXTRAS: Final = re.compile(
    r"\(\s*\d+\s*\)"  # the history's (n)
    r"|semaines?\s*:?\s*\d+"  # En attente de fournitures. Semaine: 14.
    r"|%\s*d\W?\s*humidite\s*:?\s*\d+",  # % d'humidité 60
)
_NON_WORD: Final = re.compile(r"[^a-z0-9%]+")


def label_key(label: str) -> str:
    """The normal form two spellings of one label share.

    >>> label_key("Date Début Travaux") == label_key("Date début de travaux")
    True
    """
    if not isinstance(label, str):
        raise ArgumentTypeError("label", label, "text (str)")
    if label.isascii():
        text = label.lower()
    else:
        text = unicodedata.normalize("NFKD", label.replace("œ", "oe").replace("Œ", "OE"))
        text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = _EXTRAS.sub(" ", text)
    words = []
    for word in _NON_WORD.sub(" ", text).split():
        if word in _STOPWORDS or word == "%":
            continue
        # plural -s folds onto the singular ("Appels", "fournitures")
        words.append(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    return " ".join(words)


class _Index:
    """Keys of every resolvable label and alias of one catalogue."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.by_key: dict[str, StateSpec] = {}
        for state in catalogue:
            self.by_key[state.code] = state
            if not state.resolvable:
                continue
            for spelling in (state.label, *state.aliases):
                key = label_key(spelling)
                other = self.by_key.get(key)
                if other is not None and other.code != state.code:
                    raise CatalogueError(
                        f"label {spelling!r} resolves to both {other.code!r} and "
                        f"{state.code!r}; mark one `resolvable = false`",
                        file=catalogue.file,
                        state=state.code,
                        field="label",
                    )
                self.by_key[key] = state
        self.longest = max(map(len, self.by_key), default=0)

    def lookup(self, label: str) -> StateSpec:
        if not isinstance(label, str):
            raise ArgumentTypeError("label", label, "text (str)")
        state = self.by_key.get(label)  # an exact code
        if state is not None:
            return state
        key = label_key(label)
        # Strip desk prefixes word by word, reading each candidate key only once it is no
        # longer than the longest key: linear in the label, whatever its prefixes.
        words = key.split(" ")
        length = len(key)
        for i, word in enumerate(words):
            if length <= self.longest:
                state = self.by_key.get(key if i == 0 else " ".join(words[i:]))
                if state is not None:
                    return state
            if word not in _PREFIXES or i + 1 == len(words):
                break
            length -= len(word) + 1
        close: list[str] = []
        if len(key) <= 4 * self.longest:  # longer: no key can be close (ratio < 0.6)
            close = difflib.get_close_matches(key, self.by_key, n=3, cutoff=0.6)
        codes = list(dict.fromkeys(self.by_key[k].code for k in close))
        raise UnknownStateError(_shown(label), codes)


def _shown(label: str, limit: int = 200) -> str:
    """The label as an error quotes it: cut, so a 10 MB label is not copied into it."""
    return label if len(label) <= limit else f"{label[: limit - 3]}..."


_indexes: Final[weakref.WeakKeyDictionary[Catalogue, _Index]] = weakref.WeakKeyDictionary()
_lock: Final = threading.Lock()


def _index(catalogue: Catalogue) -> _Index:
    index = _indexes.get(catalogue)
    if index is None:
        with _lock:
            index = _indexes.get(catalogue)
            if index is None:
                index = _indexes[catalogue] = _Index(catalogue)
    return index


def resolve(label: str, catalogue: Catalogue | None = None) -> StateSpec:
    """The state a code or a label (as written anywhere) names.

    Raises `UnknownStateError` carrying the label and up to three closest codes.
    """
    return _index(catalogue if catalogue is not None else default_catalogue()).lookup(label)


def label_twins(catalogue: Catalogue) -> dict[str, tuple[str, ...]]:
    """For each resolvable state, the states marked ``resolvable = false`` that share its
    label: a history entry setting that label resolves to the twin its author may set."""
    by_key: dict[str, str] = {}
    for state in catalogue:
        if state.resolvable:
            for spelling in (state.label, *state.aliases):
                by_key.setdefault(label_key(spelling), state.code)
    twins: dict[str, list[str]] = {}
    for state in catalogue:
        if not state.resolvable:
            owner = by_key.get(label_key(state.label))
            if owner is not None:
                twins.setdefault(owner, []).append(state.code)
    return {code: tuple(sorted(found)) for code, found in twins.items()}
