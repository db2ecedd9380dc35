"""CSV and Parquet output of replays, and the DuckDB report over them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from etatmachine.cli import main
from etatmachine.export.schema import ENTRY_COLUMNS, LATENESS_COLUMNS, STEP_COLUMNS
from etatmachine.replay import ReplayEntry

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("duckdb")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "histories"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_entry_columns_follow_the_model() -> None:
    names = [c.name for c in ENTRY_COLUMNS]
    for field in ReplayEntry.model_fields:
        assert ("rules" if field == "violations" else field) in names
    assert names[:3] == ["source", "dossier_id", "line"] and "contractor" in names
    assert LATENESS_COLUMNS and all(c.description for c in ENTRY_COLUMNS + STEP_COLUMNS)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pq") / "replay.parquet"
    code, _, err = run("replay", "--format", "parquet", "-o", str(out), str(EXAMPLES))
    assert code == 0, err
    return out


def test_parquet_tables_are_typed_and_versioned(replayed: Path) -> None:
    entries = pq.read_table(replayed)
    steps = pq.read_table(replayed.with_name("replay.steps.parquet"))
    assert entries.num_rows == 17
    assert entries.schema.metadata[b"etatmachine.schema_version"] == b"1"
    assert entries.schema.field("set_at").type == pa.timestamp("us", tz="UTC")
    assert entries.schema.field("rules").type == pa.list_(pa.string())
    assert entries.schema.field("line").type == pa.int64()
    assert entries.schema.field(LATENESS_COLUMNS[0]).type == pa.float64()
    assert entries.schema.field("line").metadata[b"description"]
    assert steps.num_rows == sum(1 for c in entries.column("closes").to_pylist() if c)
    rules = [r for rs in entries.column("rules").to_pylist() for r in rs]
    assert "appointment_too_far" in rules


def test_parquet_holds_what_json_says(replayed: Path) -> None:
    _, out, _ = run("replay", "--format", "json", str(EXAMPLES))
    entries = [e for d in json.loads(out)["dossiers"] for e in d["entries"]]
    table = pq.read_table(replayed).to_pylist()
    assert [row["line"] for row in table] == [e["line"] for e in entries]
    late = LATENESS_COLUMNS[0]
    assert [row[late] for row in table] == [e[late] for e in entries]
    assert table[0]["set_at"].isoformat().endswith("+00:00")


def test_csv_is_one_row_per_entry() -> None:
    code, out, _ = run("replay", "--format", "csv", str(EXAMPLES))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 17
    assert list(rows[0]) == [c.name for c in ENTRY_COLUMNS]
    assert any(r["rules"] == "appointment_too_far" for r in rows)


def test_report_by_each_group(replayed: Path) -> None:
    for by in ("contractor", "owner", "state", "phase", "month"):
        for width in (80, 100, 120):
            code, out, err = run("report", str(replayed), "--by", by, "--width", str(width))
            assert code == 0, err
            assert out and all(len(line) <= width for line in out.splitlines())
            if by == "contractor":  # names whole, never cut over lines
                assert "WAKENSON MENUISERIES" in out
    code, out, _ = run("report", str(replayed), "--format", "csv")
    rows = {r["contractor"]: r for r in csv.DictReader(io.StringIO(out))}
    wakenson = rows["WAKENSON MENUISERIES"]
    assert wakenson["entries"] == "10" and wakenson["late"] == "2" and wakenson["breaches"] == "1"


def test_report_p50_matches_the_replay_summary(replayed: Path) -> None:
    """DuckDB's quantiles are the summary's: median and p90 of the late steps' lateness."""
    _, out, _ = run("replay", "--format", "json", "--summary", str(EXAMPLES))
    by_owner = json.loads(out)["summary"]["lateness"]["by_owner"]
    _, out, _ = run("report", str(replayed), "--by", "owner", "--format", "csv")
    for row in csv.DictReader(io.StringIO(out)):
        if row["owner"] in by_owner and row["late"] != "0":
            stats = by_owner[row["owner"]]
            assert float(row["p50_late_hours"]) == pytest.approx(stats["median_seconds"] / 3600)
            assert float(row["p90_late_hours"]) == pytest.approx(stats["p90_seconds"] / 3600)


def test_report_writes_parquet_and_a_plot(replayed: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "by_state.parquet"
    png = tmp_path / "lateness.png"
    code, _, err = run(
        "report",
        str(replayed),
        "--by",
        "state",
        "--format",
        "parquet",
        "-o",
        str(out),
        "--plot",
        str(png),
    )
    assert code == 0, err
    assert pq.read_table(out).column_names[0] == "state"
    assert png.read_bytes().startswith(b"\x89PNG")


def test_report_bad_input_exits_2(tmp_path: Path) -> None:
    code, _, err = run("report", str(tmp_path / "none.parquet"))
    assert code == 2 and "no such file" in err
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet", encoding="utf-8")
    code, _, err = run("report", str(bad))
    assert code == 2 and str(bad) in err and "Traceback" not in err


def test_the_analysts_page_documents_every_column() -> None:
    import re

    text = (ROOT / "docs" / "analysts.md").read_text(encoding="utf-8")
    entries, steps = (
        re.findall(r"^\| `([a-z_]+)` \|", part.split("\n\n")[1], re.MULTILINE)
        for part in text.split("### ")[1:3]
    )
    assert entries == [c.name for c in ENTRY_COLUMNS]
    assert steps == [c.name for c in STEP_COLUMNS]


def test_the_replaying_process_never_loads_pyarrow(tmp_path: Path) -> None:
    """pyarrow and the replay engine in one process leave no room under 100 MB: the
    command line writes Parquet in a child process, so its own process never imports it."""
    import subprocess
    import sys

    out = tmp_path / "r.parquet"
    code = (
        "import sys\n"
        "from etatmachine.cli import main\n"
        "try:\n"
        f"    main(['replay', '--format', 'parquet', '-o', {str(out)!r}, {str(EXAMPLES)!r}])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyarrow', 'numpy')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert pq.read_table(out).num_rows == 17


def test_a_parquet_file_that_cannot_be_written_exits_2_naming_it(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "r.parquet"
    code, _, err = run("replay", "--format", "parquet", "-o", str(target), str(EXAMPLES))
    assert code == 2 and str(target) in err and "Traceback" not in err


def test_parquet_row_groups_are_bounded(tmp_path: Path) -> None:
    from etatmachine.export import parquet

    specs = [("n", "int", False, "a number"), ("at", "timestamp", True, "a time")]
    writer = parquet.TableWriter(tmp_path / "t.parquet", specs, "t", "1")
    rows = [[i, None] for i in range(2 * parquet.ROW_GROUP + 10)]
    for k in range(0, len(rows), 1000):
        writer.write(parquet.columns(rows[k : k + 1000], specs))
    writer.close()
    meta = pq.ParquetFile(tmp_path / "t.parquet").metadata
    assert meta.num_rows == len(rows)
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert max(sizes) <= parquet.ROW_GROUP + parquet.STAGE_ROWS + 1000 and len(sizes) == 2


def test_parquet_row_groups_are_bounded_in_bytes_too(tmp_path: Path) -> None:
    """Long comments make wide rows: a row group is written by size as well as by rows."""
    from etatmachine.export import parquet

    specs = [("comment", "str", True, "a long text")]
    writer = parquet.TableWriter(tmp_path / "t.parquet", specs, "t", "1")
    text = "x" * 10_000
    rows = [[text] for _ in range(3 * parquet.ROW_GROUP_BYTES // len(text) + 50)]
    for k in range(0, len(rows), 50):
        writer.write(parquet.columns(rows[k : k + 50], specs))
    writer.close()
    meta = pq.ParquetFile(tmp_path / "t.parquet").metadata
    assert meta.num_rows == len(rows) and meta.num_row_groups >= 3
    assert max(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) < (
        parquet.ROW_GROUP_BYTES // len(text) + 100
    )


def test_a_writer_process_that_dies_is_an_error_not_a_closed_pipe(tmp_path: Path) -> None:
    """A broken pipe to the Parquet writer is not ``| head``: it raises, naming the file."""
    from etatmachine.export.columnar import ParquetSink, ParquetWriteError, parquet_payload
    from etatmachine.legacy import iter_file
    from etatmachine.replay import iter_replays

    reports = list(iter_replays(iter_file(EXAMPLES / "b_wakenson_menuiseries.txt")))
    payload = parquet_payload(reports, {})
    sink = ParquetSink(tmp_path / "r.parquet", child=True)
    assert sink.child is not None
    sink.child.process.kill()
    sink.child.process.wait()
    with pytest.raises(ParquetWriteError, match=r"r\.parquet"):
        sink.write(payload)  # no reader left: the pipe is broken at once
