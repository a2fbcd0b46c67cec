"""The trend view through the real CLI: --history (table, sparkline, record,
backfill, --keep, overlapping runs) and --html (a self-contained page)."""

from __future__ import annotations

import json
import os
import re
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from support import (
    ANSI,
    TEMP_NAME,
    assert_error,
    assert_ok,
    finish,
    report_bytes,
    reports,
    run_cli,
    start_cli,
    write_json,
)
from test_output import run_on_pty

if TYPE_CHECKING:
    from conftest import MockApi

RECORD = ".tickets-history.jsonl"
SPARKS = "▁▂▃▄▅▆▇█"
START = datetime(2026, 11, 20, 0, 0, tzinfo=timezone.utc)
CATEGORIES = ("billing", "customer_service", "technical")


def tickets_for(counts: dict[str, int], closed: int = 2) -> list[dict[str, Any]]:
    """Tickets with counts[category] unresolved ones, plus a few closed ones."""
    tickets: list[dict[str, Any]] = []
    for category, count in counts.items():
        for status, n in (("open", count), ("closed", closed)):
            tickets += [
                {"id": len(tickets) + i + 1, "category": category, "status": status}
                for i in range(n)
            ]
    return tickets


def series(runs: int) -> list[dict[str, int]]:
    """Unresolved tickets per category for each run: a deterministic wobble."""
    return [
        {"billing": 1 + i % 3, "customer_service": 2 + (i * 5) % 7, "technical": i // 2}
        for i in range(runs)
    ]


def write_reports(directory: Path, counts: list[dict[str, int]]) -> list[datetime]:
    """Reports as the job writes them, one every three hours from START."""
    directory.mkdir(parents=True, exist_ok=True)
    times = [START + timedelta(hours=3 * i) for i in range(len(counts))]
    for when, run in zip(times, counts):
        name = when.strftime("%y-%m-%d %H-%M-%S") + ".json"
        (directory / name).write_bytes(report_bytes(tickets_for(run)))
    return times


def expected_spark(values: list[int]) -> str:
    low, high = min(values), max(values)
    if low == high:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[round((v - low) * 7 / (high - low))] for v in values)


def table_rows(stdout: str) -> list[list[str]]:
    """The table's data rows, split into cells (the change cell may be empty)."""
    rows = []
    for line in stdout.splitlines():
        match = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\d+)\s+([+-]\d+|0)?\s+(.*)$", line)
        if match:
            rows.append([match[1], match[2], match[3] or "", *match[4].split()])
    return rows


def record_lines(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (directory / RECORD).read_text().splitlines()]


# -- the table --------------------------------------------------------------------


def test_history_table_and_sparkline(tmp_path: Path) -> None:
    log = tmp_path / "logs"
    counts = series(20)
    times = write_reports(log, counts)
    result = run_cli("--history", "--log", log, "--lang", "en")
    assert_ok(result)
    assert "Tickets history (runs: 16, 2026-11-20 12:00:00 – 2026-11-22 09:00:00 UTC)" in (
        result.stdout
    )
    header = next(line for line in result.stdout.splitlines() if line.startswith("Time"))
    assert header.split() == ["Time", "(UTC)", "Unresolved", "Change", *CATEGORIES]
    totals = [sum(run.values()) for run in counts]
    expected = []
    for i in range(4, 20):  # the newest 16, oldest first
        delta = totals[i] - totals[i - 1]
        expected.append(
            [
                times[i].strftime("%Y-%m-%d %H:%M:%S"),
                str(totals[i]),
                f"{delta:+d}" if delta else "0",
                *(str(counts[i][c]) for c in CATEGORIES),
            ]
        )
    assert table_rows(result.stdout) == expected
    spark = expected_spark(totals[4:])
    last = result.stdout.splitlines()[-1]
    assert last == f"Unresolved: {spark}  (min {min(totals[4:])}, max {max(totals[4:])})"


def test_history_n_and_russian(tmp_path: Path) -> None:
    log = tmp_path / "logs"
    counts = series(5)
    write_reports(log, counts)
    result = run_cli("--history", "3", "--log", log, env={"TICKETS_LANG": "ru"})
    assert_ok(result)
    assert "📈 История тикетов (запусков: 3," in result.stdout
    assert "Время (UTC)" in result.stdout and "Изм." in result.stdout
    rows = table_rows(result.stdout)
    assert [row[1] for row in rows] == [str(sum(run.values())) for run in counts[2:]]
    assert result.stdout.splitlines()[-1].startswith("Открытые: ")
    # All of them: the first run has no change to show.
    rows = table_rows(run_cli("--history", "100", "--log", log).stdout)
    assert len(rows) == 5 and rows[0][2] == ""


def test_history_colour_and_no_color(tmp_path: Path) -> None:
    log = tmp_path / "logs"
    write_reports(log, series(6))
    result, output = run_on_pty("--history", "--log", log)
    assert (result.returncode, result.stderr) == (0, "")
    text = output.decode()
    assert "\x1b[1m📈 История тикетов" in text
    assert re.search(r"\x1b\[31m\+\d+\x1b\[0m", text)  # growth in red
    plain = run_cli("--history", "--log", log).stdout
    assert ANSI.sub("", text) == plain
    _, output = run_on_pty("--history", "--log", log, env={"NO_COLOR": "1"})
    assert output.decode() == plain


def test_history_of_an_empty_or_missing_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run_cli("--history", "--log", tmp_path / "empty", "--lang", "en")
    assert_ok(result)
    assert result.stdout == f"No reports in {tmp_path / 'empty'}\n"
    page = tmp_path / "empty" / "index.html"
    assert_ok(run_cli("--html", page, "--log", tmp_path / "empty", "--lang", "en"))
    assert "No reports yet." in page.read_text()
    result = run_cli("--history", "--log", tmp_path / "nope")
    assert_error(result, 2, "does not exist")


@pytest.mark.parametrize(
    "args",
    [["--history", "0"], ["--history", "x"], ["--history", "--api", "http://127.0.0.1:1/"]],
)
def test_history_usage_errors(tmp_path: Path, args: list[str]) -> None:
    assert_error(run_cli(*args, "--log", tmp_path), 2)


# -- the record, written by real runs ----------------------------------------------------


def test_runs_record_what_the_history_needs(tmp_path: Path, mock_api: Any) -> None:
    api: MockApi = mock_api("--seed", "7")
    log = tmp_path / "logs"
    with urllib.request.urlopen(api.tickets_url) as response:  # the seed fixes the list
        served = json.load(response)["tickets"]
    before = datetime.now(timezone.utc).replace(microsecond=0)
    assert_ok(run_cli("--api", api.tickets_url, "--log", log, "--uuid"))
    assert_ok(run_cli("--api", api.tickets_url, "--log", log))
    after = datetime.now(timezone.utc)
    unresolved: dict[str, int] = {}
    for ticket in served:
        if ticket["status"] == "open":
            unresolved[ticket["category"]] = unresolved.get(ticket["category"], 0) + 1
    lines = record_lines(log)
    assert sorted(line["report"] for line in lines) == sorted(p.name for p in reports(log))
    for line in lines:
        assert line["open"] == sum(unresolved.values())
        assert line["by_category"] == unresolved
        when = datetime.fromisoformat(line["time"].replace("Z", "+00:00"))
        assert before <= when <= after  # the UUID-named one too: the run's time
    result = run_cli("--history", "--log", log, "--lang", "en")
    assert_ok(result)
    rows = table_rows(result.stdout)
    assert [row[1] for row in rows] == [str(sum(unresolved.values()))] * 2
    assert rows[1][2] == "0"


def test_backfill_reads_old_reports_once(tmp_path: Path) -> None:
    log = tmp_path / "logs"
    counts = series(4)
    write_reports(log, counts)
    (log / "notes.txt").write_text("not a report, not looked at\n")
    assert not (log / RECORD).exists()
    first = run_cli("--history", "--log", log)
    assert_ok(first)
    assert [line["open"] for line in record_lines(log)] == [sum(c.values()) for c in counts]
    # The second time the record answers: a report changed behind its back
    # (reports never change) does not show.
    newest = sorted(reports(log))[-1]
    newest.write_bytes(report_bytes(tickets_for({"billing": 99})))
    second = run_cli("--history", "--log", log)
    assert_ok(second)
    assert second.stdout == first.stdout
    # A torn line (a crash mid-append) is dropped and its report read again.
    text = (log / RECORD).read_text().splitlines(keepends=True)
    (log / RECORD).write_text("".join(text[:-1]) + text[-1][:20])
    third = run_cli("--history", "--log", log)
    assert_ok(third)
    assert table_rows(third.stdout)[-1][1] == "99"


def test_corrupt_and_foreign_reports_are_skipped_with_a_warning(tmp_path: Path) -> None:
    log = tmp_path / "logs"
    write_reports(log, series(3))
    (log / "26-01-01 00-00-00.json").write_text('{"open": {"tickets": [')  # truncated
    write_json(log / "NFZmUxbw7gHMTsUbvnv2Nb.json", [1, 2, 3])  # foreign
    result = run_cli("--history", "--log", log)
    assert result.returncode == 0
    warnings = result.stderr.splitlines()
    assert len(warnings) == 2
    assert all(w.startswith("tickets: warning: skipping ") for w in warnings)
    assert "'26-01-01 00-00-00.json'" in result.stderr
    assert "'NFZmUxbw7gHMTsUbvnv2Nb.json'" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(table_rows(result.stdout)) == 3


def test_keep_prunes_the_record_too(tmp_path: Path) -> None:
    log = tmp_path / "logs"
    write_reports(log, series(5))
    assert_ok(run_cli("--history", "--log", log))  # backfill: five lines
    source = write_json(tmp_path / "in.json", tickets_for({"billing": 4}))
    assert_ok(run_cli("--input", source, "--log", log, "--keep", "2"))
    names = sorted(p.name for p in reports(log))
    assert len(names) == 2
    assert sorted(line["report"] for line in record_lines(log)) == names


def test_overlapping_runs_lose_no_line(tmp_path: Path) -> None:
    log = tmp_path / "logs"
    write_reports(log, series(30))
    source = write_json(tmp_path / "in.json", tickets_for({"billing": 3, "technical": 1}))
    # Runs appending while others rebuild the record (backfill, --keep).
    processes = [start_cli("--history", "--log", log) for _ in range(2)]
    processes += [start_cli("--input", source, "--log", log, "--uuid") for _ in range(8)]
    processes += [start_cli("--history", "--log", log)]
    for process in processes:
        assert finish(process, timeout=120).returncode == 0
    # Every report has its line (a report that a rebuild read before its own
    # run appended may have two: the later one counts, the next rebuild drops one).
    recorded = {line["report"] for line in record_lines(log)}
    assert recorded == {p.name for p in reports(log)}
    assert len(recorded) == 38
    assert len(table_rows(run_cli("--history", "100", "--log", log).stdout)) == 38
    assert not [p for p in log.iterdir() if TEMP_NAME.fullmatch(p.name)]


def test_record_names_stay_out_of_other_patterns() -> None:
    from ticketslib import history, store

    assert not store.REPORT_NAME.fullmatch(history.RECORD_NAME)
    assert not TEMP_NAME.fullmatch(history.RECORD_NAME)


def test_unwritable_record_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    log = tmp_path / "logs"
    write_reports(log, series(2))
    (log / RECORD).mkdir()  # cannot be opened as a file, even by root
    source = write_json(tmp_path / "in.json", tickets_for({"billing": 1}))
    result = run_cli("--input", source, "--log", log)
    assert result.returncode == 0
    assert result.stderr.startswith("tickets: warning: cannot update the history record")
    assert len(reports(log)) == 3
    shown = run_cli("--history", "--log", log)
    assert shown.returncode == 0 and len(table_rows(shown.stdout)) == 3


# -- the HTML page ----------------------------------------------------------------


def test_html_page_is_self_contained(tmp_path: Path) -> None:
    log = tmp_path / "logs"
    counts = series(10)
    counts[-1]["<script>alert(1)</script>"] = 2
    write_reports(log, counts)
    page = tmp_path / "trend.html"
    result = run_cli("--html", page, "--log", log, "--lang", "en")
    assert_ok(result)
    assert result.stdout == ""
    text = page.read_text()
    assert "<script" not in text.replace("&lt;script&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert not re.search(r"(?i)(src|href)\s*=|url\(|@import|https?://", text)
    assert "2026-11-20 00:00:00 – 2026-11-21 03:00:00 UTC" in text
    assert not [p for p in tmp_path.iterdir() if TEMP_NAME.fullmatch(p.name)]


def test_html_refreshed_after_a_run(tmp_path: Path, shared_mock_api: MockApi) -> None:
    log = tmp_path / "logs"
    write_reports(log, series(3))
    page = log / "index.html"
    env = {"TICKETS_HTML_FILE": str(page), "TICKETS_API_URL": shared_mock_api.tickets_url}
    result = run_cli("--log", log, env=env)
    assert_ok(result)
    newest = max(reports(log), key=lambda p: p.stat().st_mtime_ns)
    assert f"{newest.name})</h2>" in page.read_text()
    assert 'data-runs="4"' in page.read_text()


def test_html_cannot_be_written(tmp_path: Path) -> None:
    # The page is what this run is for: an error.
    log = tmp_path / "logs"
    write_reports(log, series(2))
    result = run_cli("--html", tmp_path / "missing" / "x.html", "--log", log)
    assert_error(result, 5, "cannot write", "x.html")


def test_html_failing_after_the_report_is_saved_is_a_warning(tmp_path: Path) -> None:
    # An extra output: the report is saved, the exit code stays 0 (no failure
    # command fires), one warning line says what was not written.
    log = tmp_path / "logs"
    source = write_json(tmp_path / "in.json", tickets_for({"billing": 2}))
    prom = tmp_path / "tickets.prom"
    page = tmp_path / "missing" / "x.html"
    result = run_cli("--input", source, "--log", log, "--html", page, "--metrics", prom)
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("tickets: warning: cannot write ") and "x.html" in line
    assert "the report is saved" in line
    [saved] = reports(log)
    assert saved.read_bytes() == report_bytes(tickets_for({"billing": 2}))
    assert "tickets_last_run_exit_code 0" in prom.read_text()


# -- the HTML page in a real browser ---------------------------------------------------

CHART_JS = """(() => {
  const svg = document.getElementById('chart');
  const lines = [...svg.querySelectorAll('polyline')].map(p => ({
    series: p.dataset.series,
    points: [...p.points].map(pt => [pt.x, pt.y]),
  }));
  const box = Object.fromEntries(Object.entries(svg.dataset).map(([k, v]) => [k, Number(v)]));
  const table = [...document.querySelectorAll('#latest tbody tr')]
    .map(tr => [...tr.cells].map(td => td.textContent));
  return {box, lines, table, range: document.getElementById('range').textContent,
          resources: performance.getEntriesByType('resource').length};
})()"""


def test_html_page_in_headless_chromium(tmp_path: Path) -> None:
    from browser import Browser

    log = tmp_path / "logs"
    counts = [
        {"billing": 3 + i % 4, "customer_service": 8 + (i * 7) % 11 - i // 4, "technical": 2 + i}
        for i in range(16)
    ]
    times = write_reports(log, counts)
    page_path = tmp_path / "trend.html"
    assert_ok(run_cli("--html", page_path, "--log", log, "--lang", "en"))
    with Browser(tmp_path) as browser:
        page = browser.open(page_path)
        dom = page.evaluate(CHART_JS)
        png = page.screenshot()
        # Nothing but the page itself was requested; nothing was blocked.
        assert page.requests == [page_path.resolve().as_uri()]
        assert page.violations == []
        assert dom["resources"] == 0
    box = dom["box"]
    start, end = times[0].timestamp(), times[-1].timestamp()
    assert (box["start"], box["end"]) == (start, end)

    def expected_points(values: list[int]) -> list[tuple[float, float]]:
        return [
            (
                box["left"] + box["width"] * (t.timestamp() - start) / (end - start),
                box["top"] + box["height"] * (1 - v / box["yMax"]),
            )
            for t, v in zip(times, values)
        ]

    lines = {line["series"]: line["points"] for line in dom["lines"]}
    assert sorted(lines) == sorted(["total", *CATEGORIES])
    wanted = {"total": [sum(c.values()) for c in counts]}
    wanted.update({name: [c[name] for c in counts] for name in CATEGORIES})
    assert box["yMax"] >= max(wanted["total"])
    for name, values in wanted.items():
        got = [c for point in lines[name] for c in point]
        want = [c for point in expected_points(values) for c in point]
        assert got == pytest.approx(want, abs=0.06), name
    # The latest run's table, with the change since the run before.
    latest, previous = counts[-1], counts[-2]
    expected_table = []
    for name in CATEGORIES:
        delta = latest[name] - previous[name]
        expected_table.append([name, str(latest[name]), f"{delta:+d}" if delta else "0"])
    delta = sum(latest.values()) - sum(previous.values())
    expected_table.append(["Total", str(sum(latest.values())), f"{delta:+d}" if delta else "0"])
    assert dom["table"] == expected_table
    assert dom["range"].startswith("2026-11-20 00:00:00 – 2026-11-21 21:00:00 UTC")
    # A real picture: a PNG of the whole page, not a blank one.
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width >= 960 and height >= 500
    assert len(png) > 20_000
    (tmp_path / "trend.png").write_bytes(png)
    target = os.environ.get("TICKETS_TREND_PNG")
    if target:  # scripts: refresh docs/trend.png (docs/tool.md)
        Path(target).write_bytes(png)


def test_browser_check_sees_an_external_resource(tmp_path: Path, recording_server: Any) -> None:
    # The checks above can fail: a page that loads an image from elsewhere is seen.
    from browser import Browser

    page_path = tmp_path / "leaky.html"
    page_path.write_text(f'<!DOCTYPE html><img src="{recording_server.url}">')
    with Browser(tmp_path) as browser:
        page = browser.open(page_path)
        assert recording_server.url in page.requests
        assert page.evaluate("performance.getEntriesByType('resource').length") == 1
