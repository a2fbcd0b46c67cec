"""Every preset end to end over HTTP against files/mock_api.py --style NAME
(each vendor's shape, paging, auth, rate limits and hostile cases, from the
vendor's documentation): the report must equal the one computed here from
the mock's ground truth (GET /_all) by each vendor's own rules, written here
independently of ticketslib.presets."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import MockApi
from support import Result, assert_error, run_cli, snapshot
from test_mock_api import PATHS, SECRET, STYLES
from test_paging import PageServer

# The token in the form each vendor's auth takes (Basic user:secret where it is Basic).
TOKENS = {
    "zendesk": f"agent@example.com/token:{SECRET}",
    "jira": f"agent@example.com:{SECRET}",
    "freshdesk": f"{SECRET}:X",
}
# The query each preset asks for, as /_all takes it: the same items in the same order.
QUERIES = {
    "redmine": "status_id=*&sort=id",
    "github": "state=all&sort=created&direction=asc",
    "gitlab": "state=all&order_by=created_at&sort=asc",
    "zendesk": "",
    "jira": "jql=project%3DHD&fields=status,issuetype",
    "freshdesk": "updated_since=2000-01-01T00:00:00Z&order_by=created_at&order_type=asc",
    "json-server": "",
}


def _first_label(labels: list[Any]) -> str:
    if not labels:
        return "(none)"
    return labels[0]["name"] if isinstance(labels[0], dict) else labels[0]


# Each vendor's rules: is it a ticket, is it unresolved, its category.
RULES: dict[str, tuple[Callable[[Any], bool], Callable[[Any], bool], Callable[[Any], str]]] = {
    "redmine": (
        lambda i: True,
        lambda i: not i["status"]["is_closed"],
        lambda i: i.get("category", {}).get("name", "(none)"),
    ),
    "github": (
        lambda i: "pull_request" not in i,
        lambda i: i["state"] == "open",
        lambda i: _first_label(i["labels"]),
    ),
    "gitlab": (
        lambda i: True,
        lambda i: i["state"] == "opened",
        lambda i: _first_label(i["labels"]),
    ),
    "zendesk": (
        lambda i: True,
        lambda i: i["status"] not in ("solved", "closed"),
        lambda i: i["type"] or "(none)",
    ),
    "jira": (
        lambda i: True,
        lambda i: i["fields"]["status"]["statusCategory"]["key"] != "done",
        lambda i: i["fields"]["issuetype"]["name"],
    ),
    "freshdesk": (
        lambda i: True,
        lambda i: i["status"] not in (4, 5),
        lambda i: i["type"] or "(none)",
    ),
    "json-server": (lambda i: True, lambda i: i["status"] == "open", lambda i: i["category"]),
}


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def expected(api: MockApi, style: str, query: str = "") -> bytes:
    """The report for the mock's ground truth, by the json module."""
    full = "&".join(filter(None, [QUERIES[style], query]))
    items = get_json(f"{api.url}/_all?style={style}&{full}")
    ticket, unresolved, category = RULES[style]
    items = [i for i in items if ticket(i)]
    by_category: dict[str, int] = {}
    for item in items:
        by_category[category(item)] = by_category.get(category(item), 0) + 1
    opened = [i for i in items if unresolved(i)]
    report = {"open": {"tickets": opened, "count": len(opened)}, "by_category": by_category}
    return json.dumps(report, indent=4, ensure_ascii=False).encode()


@pytest.fixture(scope="module")
def mocks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, MockApi]]:
    """One mock per style, requiring the token."""
    apis: dict[str, MockApi] = {}
    try:
        for style in STYLES:
            args = ("--style", style, "--token", SECRET, "--count", "237")
            apis[style] = MockApi(args, tmp_path_factory.mktemp(style), 10.0)
        yield apis
    finally:
        for api in apis.values():
            api.stop()


def url_of(api: MockApi, style: str, query: str = "") -> str:
    url = api.url + PATHS[style]
    return url + ("&" if "?" in url else "?") + query if query else url


def run_preset(
    api: MockApi, style: str, log: Path, query: str = "", *args: str, token: str | None = None
) -> Result:
    env = {"TICKETS_API_TOKEN": token or TOKENS.get(style, SECRET)}
    return run_cli(
        "--api", url_of(api, style, query), "--preset", style, "--log", log, *args, env=env
    )


def saved(log: Path) -> bytes:
    [report] = [p for p in log.iterdir() if p.suffix == ".json"]
    return report.read_bytes()


def requests_of(api: MockApi, marker: str) -> list[str]:
    return [line for line in api.stderr.splitlines() if marker in line]


@pytest.mark.parametrize("style", STYLES)
def test_preset_end_to_end(mocks: dict[str, MockApi], tmp_path: Path, style: str) -> None:
    api = mocks[style]
    result = run_preset(api, style, tmp_path, "mock_key=e2e")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert saved(tmp_path) == expected(api, style)
    assert SECRET not in result.stdout
    # More than one page was crawled (237 items, 100 a page at most).
    assert len(requests_of(api, "mock_key=e2e")) >= 3


@pytest.mark.parametrize("style", [s for s in STYLES if s != "json-server"])
def test_preset_auth_refused_with_a_wrong_token(
    mocks: dict[str, MockApi], tmp_path: Path, style: str
) -> None:
    result = run_preset(api := mocks[style], style, tmp_path, "", token="wrong:token")
    assert_error(result, 3, "answered HTTP 401")
    assert "wrong" not in result.stderr
    assert api.url  # (the mock still runs)


# One preset of each paging style with a next link or token (test_paging.py has the rest).
@pytest.mark.parametrize("style", ["github", "zendesk", "jira"])
def test_preset_refuses_a_pagination_loop(
    mocks: dict[str, MockApi], tmp_path: Path, style: str
) -> None:
    before = snapshot(tmp_path)
    result = run_preset(mocks[style], style, tmp_path, f"mock_loop=2&mock_key=loop-{style}")
    assert_error(result, 3, "a pagination loop, refused")
    assert snapshot(tmp_path) == before


# (Redmine's offsets and Jira's token are sent to the configured URL: no link to follow.)
@pytest.mark.parametrize("style", ["github", "zendesk"])
def test_preset_refuses_another_origin(
    mocks: dict[str, MockApi], tmp_path: Path, style: str
) -> None:
    foreign = PageServer()
    try:
        query = f"mock_foreign={foreign.url}&mock_key=foreign-{style}"
        result = run_preset(mocks[style], style, tmp_path, query)
        assert_error(result, 3, "points to another origin", "the token is never sent there")
        assert foreign.requests == []
    finally:
        foreign.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("style", ["redmine", "github", "zendesk", "jira"])
def test_preset_all_or_nothing(mocks: dict[str, MockApi], tmp_path: Path, style: str) -> None:
    result = run_preset(mocks[style], style, tmp_path, "mock_fail_page=2", "--retries", "0")
    assert_error(result, 3, "(page 2) answered HTTP 500")
    result = run_preset(mocks[style], style, tmp_path, "mock_fail_page=2&mock_fail=invalid")
    assert_error(result, 4, "not valid JSON")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("style", [s for s in STYLES if s not in ("jira",)])
def test_preset_counts_a_shifted_ticket_once(
    mocks: dict[str, MockApi], tmp_path: Path, style: str
) -> None:
    # A new ticket stands in front from the second request on: the ticket at
    # the page boundary comes twice.
    api = mocks[style]
    result = run_preset(api, style, tmp_path, f"mock_shift=1&mock_key=shift-{style}")
    assert result.returncode == 0, result.stderr
    assert "came on two pages" in result.stderr
    assert saved(tmp_path) == expected(api, style)


def test_redmine_total_drift_is_a_warning_and_no_short_page_stops(
    mocks: dict[str, MockApi], tmp_path: Path
) -> None:
    api = mocks["redmine"]
    result = run_preset(api, "redmine", tmp_path, "mock_total_drift=1&mock_key=drift")
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("tickets: warning: the server's total changed")
    assert saved(tmp_path) == expected(api, "redmine")
    # 237 issues: offsets 0, 100, 200, then 237 (the total says 244; the page is empty).
    offsets = [line.split("offset=")[1].split()[0] for line in requests_of(api, "mock_key=drift")]
    assert offsets == ["0", "100", "200", "237"]


@pytest.mark.parametrize(
    ("style", "form"),
    [("github", "exhausted"), ("jira", "seconds"), ("zendesk", "date")],
)
def test_preset_waits_for_a_rate_limit(
    mocks: dict[str, MockApi], tmp_path: Path, style: str, form: str
) -> None:
    api = mocks[style]
    key = f"rate-{style}"
    query = f"mock_ratelimit=1&mock_ratelimit_from=2&mock_retry_after=1&mock_ratelimit_form={form}"
    prom = tmp_path / "tickets.prom"
    started = time.monotonic()
    result = run_preset(api, style, tmp_path / "logs", f"{query}&mock_key={key}", "--metrics", prom)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 0.5
    assert saved(tmp_path / "logs") == expected(api, style)
    waited = [line for line in prom.read_text().splitlines() if line.startswith("tickets_run_rate")]
    assert 0 < float(waited[0].split()[1]) <= 2.5


@pytest.mark.parametrize("style", ["github", "gitlab"])
def test_preset_fails_at_once_on_a_long_rate_limit(
    mocks: dict[str, MockApi], tmp_path: Path, style: str
) -> None:
    query = f"mock_ratelimit=5&mock_retry_after=3600&mock_key=long-{style}"
    started = time.monotonic()
    result = run_preset(mocks[style], style, tmp_path, query, "--max-wait", "30")
    assert time.monotonic() - started < 10
    assert_error(result, 3, "rate limited", "longer than --max-wait 30 s")
    assert list(tmp_path.iterdir()) == []


def test_preset_stops_an_endless_crawl(mocks: dict[str, MockApi], tmp_path: Path) -> None:
    result = run_preset(mocks["zendesk"], "zendesk", tmp_path, "mock_endless=1", "--max-pages", "4")
    assert_error(result, 3, "more than 4 pages (--max-pages)")
    assert list(tmp_path.iterdir()) == []
