"""A seeded corpus of histories for the replay snapshot: the real ones and mutants of them.

The mutants are what years of archives hold: labels swapped for other states of the
procedure (refused moves, waits left every way), due dates moved, paragraphs dropped,
doubled or swapped (time going back, duplicated lines), call notes, insurer and channel
names, quote amounts in comments, other signatures (the contractor, the system, other staff),
lines the parser cannot read. The snapshot (tests/golden/replay/corpus.json.gz) holds what
the replay said of each one; `tests/test_replay_corpus.py` checks every replay path still
says exactly that.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from etatmachine import Workflow

__all__ = ["ARCHIVE_COUNT", "CORPUS_SEED", "archive", "corpus"]

ROOT = Path(__file__).resolve().parent.parent
CORPUS_SEED = 20261201
MUTANTS = 600
ARCHIVE_COUNT = 60  # histories concatenated into the archive (each opens a dossier)

_ETAT = re.compile(r"^(ETAT: )(.+?)( \(\d+\))? (\d\d/\d\d/\d{4})( \d\d:\d\d)?(.*)$")
_STAMP = re.compile(r"^(\d\d)\.(\d\d)\.(\d{4})-(\d\d):(\d\d)-\((\w+)\) (.*)$")
_SIGNERS = ("(995) INTERNET", "(996) SYSTEME", "(3995) SANDRINE SUTOR", "(4410) JEAN MARTIN")
_NOTES = (
    "nrp lm",
    "client injoignable, message laissé",
    "répondeur",
    "AZ: dossier suivi",
    "Allianz demande un rappel",
    "dossier BPCE",
    "Sinapps : anomalie",
    "Montant du devis 2 480,00 € TTC",
    "devis de 950,00 euros",
    "RAS",
)


def _real() -> list[tuple[str, str]]:
    out = [
        (f"examples/{p.name}", p.read_text(encoding="utf-8"))
        for p in sorted((ROOT / "examples" / "histories").glob("*.txt"))
    ]
    out.append(("tests/data/seed.txt", (ROOT / "tests" / "data" / "seed.txt").read_text("utf-8")))
    return out


def _labels() -> list[str]:
    return sorted(s.label for s in Workflow.default().catalogue)


def _shift_date(text: str, days: int) -> str:
    d, m, y = (int(x) for x in text.split("/"))
    from datetime import date, timedelta

    moved = date(y, m, d) + timedelta(days=days)
    return f"{moved.day:02d}/{moved.month:02d}/{moved.year:04d}"


def _mutate_line(rng: random.Random, line: str, labels: list[str]) -> str:
    m = _ETAT.match(line)
    if m is not None:
        prefix, label, n, day, time, rest = m.groups()
        roll = rng.random()
        if roll < 0.4:
            label = rng.choice(labels)
        elif roll < 0.45:
            label = rng.choice(("Etat inventé", label.upper(), label[: len(label) // 2]))
        elif roll < 0.7:
            day = _shift_date(day, rng.randint(-3, 9))
        elif roll < 0.8:
            time = f" {rng.randint(7, 19):02d}:{rng.choice((0, 15, 30, 45)):02d}"
        elif roll < 0.9:
            rest = f"{rest} {rng.choice(_NOTES)}"
        return f"{prefix}{label}{n or ''} {day}{time or ''}{rest}"
    s = _STAMP.match(line)
    if s is not None and rng.random() < 0.3:
        day, month, year, hour, minute, _uid, _name = s.groups()
        return f"{day}.{month}.{year}-{hour}:{minute}-{rng.choice(_SIGNERS)} ."
    return line


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text.strip("\n")) if p.strip()]


def _mutant(rng: random.Random, text: str, labels: list[str]) -> str:
    paras = _paragraphs(text)
    for _ in range(rng.randint(2, 12)):
        roll = rng.random()
        i = rng.randrange(len(paras))
        if roll < 0.55:
            lines = paras[i].split("\n")
            paras[i] = "\n".join(_mutate_line(rng, line, labels) for line in lines)
        elif roll < 0.62 and len(paras) > 2:
            del paras[i]
        elif roll < 0.7:
            paras.insert(i, paras[i])  # a duplicated paragraph
        elif roll < 0.78:
            j = rng.randrange(len(paras))
            paras[i], paras[j] = paras[j], paras[i]  # time may go back
        elif roll < 0.9:
            stamp = next(
                (ln for p in paras[i:] for ln in p.split("\n") if _STAMP.match(ln)),
                "01.03.2023-10:00-(3995) SANDRINE SUTOR .",
            )
            paras.insert(i + 1, f"{rng.choice(_NOTES)}\n{stamp}")
        else:
            paras.insert(i, rng.choice(("ZZZ: ligne inconnue (1) 32/13/2023", "ETAT: (3) 1/1/1")))
    return "\n\n".join(paras) + "\n"


def corpus(seed: int = CORPUS_SEED, mutants: int = MUTANTS) -> list[tuple[str, str]]:
    """(name, text) of every history of the corpus, in a fixed order."""
    rng = random.Random(seed)
    real = _real()
    labels = _labels()
    out = list(real)
    for k in range(mutants):
        name, text = rng.choice(real)
        out.append((f"mutant-{k:03d}-of-{Path(name).stem}", _mutant(rng, text, labels)))
    return out


def archive(seed: int = CORPUS_SEED, count: int = ARCHIVE_COUNT) -> str:
    """Histories of the corpus one after another, each opening its own dossier."""
    opening = "OUVERTURE: -01.02.2023-08:00-(1002823) LEENDRINA NIAMDILA\n\n"
    out = []
    for _, text in corpus(seed)[:count]:
        out.append(text if text.lstrip().startswith("OUVERTURE") else opening + text)
    return "\n".join(out)
