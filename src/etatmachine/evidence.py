"""What a history's free text says, read as the procedure means it.

The parser (`etatmachine.legacy`) keeps every line as a typed record; this module reads the
facts the procedure cares about out of those records' words, without knowing the machine:

* failed calls to the insured, from call notes (« nrp » = ne répond pas, « lm » = laissé
  un message, « message laissé sur le répondeur », « ne répond pas », « injoignable »);
  « Client injoignable » needs at least 3 of them;
* the file's insurer (« AZ: », Allianz, BPCE) and channel (Sinapps, Darva), from what the
  history says;
* a quote's amount, as its author writes it with the quote (``1 234,56``, ``2500 €``).

>>> failed_call("allo ass//nrp lm//suite a votre message")
True
>>> failed_call("Rendez vous pris avec l'assuré le 05/04")
False
>>> sorted(insurers_named("ETAT: AZ: Appels 24h"))
['AZ']
>>> quote_amount_in("Devis WEB 1 850,40 € TTC")
'1 850,40'
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["channels_named", "failed_call", "insurers_named", "names_in", "quote_amount_in"]


# matched on the case-folded text; accents optional, so « répondeur » and « REPONDEUR » alike
_FAILED_CALL: Final = re.compile(
    r"\bnrp\b"  # ne répond pas
    r"|\blm\b"  # laissé (un) message
    r"|\bne r[ée]pond pas\b"
    r"|\bmessage laiss[ée]\b|\blaiss[ée] (?:un )?message\b"
    r"|\br[ée]pondeur\b"
    r"|\binjoignable\b"
)
_INSURERS: Final = re.compile(r"\b(AZ|ALLIANZ|BPCE)\b", re.IGNORECASE)
_CHANNELS: Final = re.compile(r"\b(SINAPPS|DARVA)\b", re.IGNORECASE)
# an amount written with a decimal comma (1 850,40 / 1850,40), or a whole number with € / EUR
_AMOUNT: Final = re.compile(
    r"(?<![\d/.,])(\d{1,3}(?:[ \u00a0\u202f.]\d{3})+|\d+),(\d{2})(?![\d/])"
    r"|(?<![\d/.,])(\d{1,3}(?:[ \u00a0\u202f.]\d{3})+|\d+) ?(?:€|EUR\b)"
)


def _upper(text: str) -> str:
    """``text`` upper-cased so that a name the case-insensitive regex finds is a substring:
    a substring test is much cheaper than the regex it spares. Every letter the regex takes
    for an ASCII one upper-cases to it (« ı » to I, « ſ » to S), except « İ », whose
    single-letter lower case is « i »: it is mapped by hand."""
    upper = text.upper()
    return upper if upper.isascii() else upper.replace("\u0130", "I")


def failed_call(text: str) -> bool:
    """Whether a call note records an unanswered call to the insured."""
    folded = text.casefold()
    # every word of the pattern holds one of these: a note with none needs no regex
    if not ("nrp" in folded or "lm" in folded or "pond" in folded or "laiss" in folded):
        return "injoignable" in folded and _FAILED_CALL.search(folded) is not None
    return _FAILED_CALL.search(folded) is not None


def insurers_named(text: str) -> set[str]:
    """The insurer names a text uses, as written upper-cased (``AZ``, ``ALLIANZ``, ``BPCE``);
    the catalogue says which insurer each name is."""
    # the common case, no candidate substring: no regex run at all
    return _insurers(text) if _may_name_insurer(_upper(text)) else set()


def channels_named(text: str) -> set[str]:
    """The channels a text names (``sinapps``, ``darva``)."""
    return _channels(text) if _may_name_channel(_upper(text)) else set()


def names_in(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """`insurers_named` and `channels_named` of one text, upper-cased once (frozen: a text
    that names nothing, the common case, shares one empty set)."""
    upper = _upper(text)
    insurers = _NONE if not _may_name_insurer(upper) else frozenset(_insurers(text))
    channels = _NONE if not _may_name_channel(upper) else frozenset(_channels(text))
    return insurers, channels


_NONE: Final[frozenset[str]] = frozenset()


def _may_name_insurer(upper: str) -> bool:
    return "AZ" in upper or "ALLIANZ" in upper or "BPCE" in upper


def _may_name_channel(upper: str) -> bool:
    return "SINAPPS" in upper or "DARVA" in upper


def _insurers(text: str) -> set[str]:
    return {m.group(1).upper() for m in _INSURERS.finditer(text)}


def _channels(text: str) -> set[str]:
    return {m.group(1).lower() for m in _CHANNELS.finditer(text)}


def quote_amount_in(text: str) -> str | None:
    """The first money amount a text writes (as written), or None."""
    m = _AMOUNT.search(text)
    if m is None:
        return None
    if m.group(1) is not None:
        return f"{m.group(1)},{m.group(2)}"
    return m.group(3)
