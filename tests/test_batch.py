"""Pieces of an archive, replayed anywhere, give what the whole archive gives."""

from __future__ import annotations

import io
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from etatmachine.batch import (
    Options,
    Piece,
    cut_lines,
    history_files,
    pieces,
    replay_piece,
    tasks,
)
from etatmachine.legacy import iter_records, read_lines, split_lines
from etatmachine.parallel import ordered_map
from etatmachine.replay import iter_replays
from etatmachine.summary import SummaryAccumulator, summary_parts

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "histories"
SEED = ROOT / "tests" / "data" / "seed.txt"
OPENING = "OUVERTURE: -02.01.2023-08:00-(1000001) OUVERTURE SYNTHETIQUE"

FRAGMENTS = [
    "",
    " ",
    OPENING,
    " " + OPENING,
    "\u00a0" + OPENING,
    "OUVERTURE sans deux-points",
    "ETAT: Etude de devis (2) 01/03/2023 17:04 (01/03/2023-N°1)",
    "ETAT: Contact client pour devis 02/03/2023 10:00",
    "ETAT: Attente Cie 31/02/2023 10:00",
    "01.03.2023-17:04-(995) INTERNET",
    "18.01.2023-17:17",
    "MESSAGE DE .(3995) SANDRINE SUTOR .(M.A.)",
    "POUR:(72a3181) XX",
    "REMIS DE:07.02.2023-16:40-(995) INTERNET",
    "Intervention sous-assignée à: - [47269] NYCO DECO 18/01/2023 15:04",
    "NTACT 1: -Date du contact avec le client: 07/02/2023 16:50",
    "texte libre",
]


def _archive() -> str:
    parts = []
    for path in sorted(EXAMPLES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        parts.append(("" if text.lstrip().startswith("OUVERTURE") else OPENING + "\n") + text)
    return "\n".join(parts)


def _whole(text: str, source: str) -> list[str]:
    return [
        r.model_dump_json() for r in iter_replays(iter_records(split_lines(text)), source=source)
    ]


def _cut(text: str, source: str, piece_lines: int) -> tuple[list[str], list[Piece]]:
    lines = split_lines(text)
    cut = list(pieces_of(source, lines, piece_lines))
    out: list[str] = []
    for piece in cut:
        out.extend(replay_piece(piece, Options(fmt="json")).payload)
    return out, cut


def pieces_of(source: str, lines: list[str], piece_lines: int) -> list[Piece]:
    return list(cut_lines(source, lines, piece_lines))


def test_pieces_of_an_archive_replay_to_the_whole_archive() -> None:
    text = _archive()
    whole = _whole(text, "a.txt")
    assert len(whole) == 6
    for piece_lines in (1, 10, 10_000):
        cut, made = _cut(text, "a.txt", piece_lines)
        assert cut == whole
        assert (len(made) > 1) == (piece_lines < 100)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("\n".join))
def test_any_cut_replays_like_the_whole(text: str) -> None:
    assert _cut(text, "x", 1)[0] == _whole(text, "x")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_slices_parse_like_the_whole(lines: list[str]) -> None:
    whole = list(iter_records(lines))
    made = pieces_of("x", lines, 1)
    parsed = [r for p in made for r in iter_records(p.lines, first_line=p.first_line)]
    assert parsed == whole


def test_seed_cut_into_pieces_parses_like_the_whole() -> None:
    lines = list(read_lines(SEED))
    made = pieces_of(str(SEED), lines, 1)
    assert [r for p in made for r in iter_records(p.lines, first_line=p.first_line)] == list(
        iter_records(lines)
    )


def test_pool_results_come_in_input_order(tmp_path: Path) -> None:
    (tmp_path / "archive.txt").write_text(_archive() * 3, encoding="utf-8")
    sources = list(history_files([str(tmp_path), str(EXAMPLES)]))

    def run(jobs: int) -> list[str]:
        import functools

        from etatmachine.batch import replay_task

        fn = functools.partial(replay_task, options=Options(fmt="jsonl"))
        return [
            r.payload
            for batch in ordered_map(fn, tasks(pieces(sources, 50), 50), jobs)
            for r in batch
        ]

    def run_spans(jobs: int) -> list[str]:
        import functools

        from etatmachine.batch import replay_task, span_tasks, spans

        fn = functools.partial(replay_task, options=Options(fmt="jsonl"))
        made = span_tasks(spans(sources, 50, whole_bytes=0), 4_096)
        return [r.payload for batch in ordered_map(fn, made, jobs) for r in batch]

    assert run(2) == run(1)
    ids = [json.loads(line)["dossier_id"] for text in run(1) for line in text.splitlines()]
    assert len(ids) == 18 + 6 and len(set(ids)) == len(ids)
    assert "".join(run_spans(2)) == "".join(run_spans(1)) == "".join(run(1))


def test_streamed_summary_equals_combined_summary() -> None:
    from etatmachine.legacy import iter_file
    from etatmachine.replay import combined_summary

    reports = [r for p in sorted(EXAMPLES.glob("*.txt")) for r in iter_replays(iter_file(p))]
    acc = SummaryAccumulator()
    for r in reports:
        acc.add(summary_parts(r))
    assert (acc.count, acc.summary()) == combined_summary(reports)


def test_stdin_lines_read_like_a_file() -> None:
    data = (EXAMPLES / "b_wakenson_menuiseries.txt").read_bytes()
    assert list(read_lines(io.BytesIO(data))) == list(
        read_lines(EXAMPLES / "b_wakenson_menuiseries.txt")
    )


def test_a_source_that_cannot_be_read_is_one_skipped_piece(tmp_path: Path) -> None:
    (piece,) = pieces([str(tmp_path / "gone.txt")])
    assert piece.last and piece.skipped is not None and piece.skipped.startswith("unreadable:")
    result = replay_piece(piece, Options())
    assert result.skipped == piece.skipped and result.entries == 0


_GROUP = st.tuples(
    st.sampled_from([None, "contractor", "case_handler", "system"]),
    st.booleans(),
    st.sampled_from([None, "NYCO DECO", "WAKENSON MENUISERIES"]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(
                _GROUP,
                st.one_of(st.just(0.0), st.integers(1, 10**12).map(lambda us: us / 1e6)),
            ),
            max_size=12,
        ),
        max_size=8,
    )
)
def test_the_accumulated_lateness_is_lateness_report_of_the_steps(
    dossiers: list[list[tuple[tuple[str | None, bool, str | None], float]]],
) -> None:
    """The accumulator never rebuilds the steps; its figures are those of `lateness_report`
    over them (groups, counts, median, p90)."""
    from datetime import UTC, datetime, timedelta

    from etatmachine.lateness import Step, lateness_report
    from etatmachine.roles import Role
    from etatmachine.summary import SummaryParts

    acc = SummaryAccumulator()
    steps = []
    for dossier in dossiers:
        acc.add(SummaryParts((0, 0, 0, 0, 0), (), (), 0.0, tuple(dossier)))
        for (owner, clock, contractor), seconds in dossier:
            steps.append(
                Step(
                    state="x",
                    owner=None if owner is None else Role(owner),
                    contractor_clock=clock,
                    entered_at=datetime(2023, 1, 2, tzinfo=UTC),
                    due_at=None,
                    left_at=None,
                    late=seconds > 0,
                    lateness=timedelta(seconds=seconds),
                    contractor=contractor,
                )
            )
    assert acc.lateness() == lateness_report(steps)


def _span_replay(path: Path, piece_lines: int, scan_block: int) -> list[str]:
    from etatmachine.batch import Span, read_span, spans

    out: list[str] = []
    made = list(spans([str(path)], piece_lines, whole_bytes=0, scan_block=scan_block))
    assert all(isinstance(s, Span) for s in made) and made[-1].last
    for span in made:
        result = replay_piece(read_span(span), Options(fmt="json"))
        out.extend(result.payload)
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from([*FRAGMENTS, "\ufeff" + OPENING]), max_size=40),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
    st.integers(min_value=1, max_value=5),
    st.sampled_from([16, 64, 1 << 20]),
)
def test_spans_read_where_they_are_replayed_give_the_whole(
    lines: list[str], newline: str, bom: bool, piece_lines: int, scan_block: int
) -> None:
    """A file scanned as bytes into spans, each read and replayed alone, gives exactly the
    dossiers of the whole file (ids, lines, verdicts), whatever its line breaks, a
    byte-order mark, or where the scan's blocks fall."""
    import tempfile

    text = ("\ufeff" if bom else "") + newline.join(lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.txt"
        path.write_bytes(text.encode("utf-8"))
        whole = [
            r.model_dump_json()
            for r in iter_replays(iter_records(read_lines(path)), source=str(path))
        ]
        one = replay_piece(next(pieces([str(path)], 10**9)), Options(fmt="json")).payload
        assert [json.loads(r)["entries"] for r in one] == [json.loads(r)["entries"] for r in whole]
        assert _span_replay(path, piece_lines, scan_block) == one


def test_spans_of_an_archive_cut_it_like_pieces(tmp_path: Path) -> None:
    from etatmachine.batch import Span, spans

    archive = tmp_path / "a.txt"
    archive.write_text(_archive() * 5, encoding="utf-8")
    made = [s for s in spans([str(archive)], 30, whole_bytes=0) if isinstance(s, Span)]
    cut = list(pieces([str(archive)], 30))
    assert [(s.first_line, s.first_dossier) for s in made] == [
        (p.first_line, p.first_dossier) for p in cut
    ]
    assert len(made) > 5
    (small,) = spans([str(archive)])  # smaller than a span: not even opened
    assert isinstance(small, Span) and small.end is None and small.last
