"""files/tickets.py end to end: the mock API, --help, environment variables, secrets, signals."""

from __future__ import annotations

import json
import re
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import MockApi
from support import (
    HISTORY_RECORD,
    REFERENCE,
    TIMESTAMP_NAME,
    Result,
    assert_error,
    assert_ok,
    console_text,
    expected_report,
    finish,
    only_report,
    open_status_args,
    report_bytes,
    reports,
    requests_logged,
    run_cli,
    snapshot,
    start_cli,
    temp_files,
    write_json,
)
from ticketslib import cli

if TYPE_CHECKING:
    from conftest import MockApiFactory, RecordingServer

OPTIONS = [
    "--api",
    "--input",
    "--log",
    "--uuid",
    "--no-uuid",
    "--keep",
    "--open-status",
    "--timeout",
    "--retries",
    "--max-bytes",
    "--token-file",
    "--lang",
    "--history",
    "--html",
    "--metrics",
    "--max-list",
    "--every",
    "--check-config",
    "--version",
    "--preset",
    "--auth",
    "--items",
    "--id-field",
    "--category-field",
    "--status-field",
    "--closed-status",
    "--missing-category",
    "--skip-field",
    "--paginate",
    "--next-path",
    "--has-more-path",
    "--cursor-path",
    "--page-param",
    "--size-param",
    "--total-path",
    "--page-size",
    "--max-pages",
    "--max-wait",
]
ENV_NAMES = [
    "TICKETS_API_URL",
    "TICKETS_INPUT",
    "TICKETS_LOG_DIR",
    "TICKETS_USE_UUID",
    "TICKETS_KEEP",
    "TICKETS_OPEN_STATUSES",
    "TICKETS_TIMEOUT",
    "TICKETS_RETRIES",
    "TICKETS_MAX_BYTES",
    "TICKETS_TOKEN_FILE",
    "TICKETS_API_TOKEN",
    "TICKETS_LANG",
    "TICKETS_HTML_FILE",
    "TICKETS_METRICS_FILE",
    "TICKETS_MAX_LIST",
    "TICKETS_EVERY",
    "TICKETS_PRESET",
    "TICKETS_AUTH",
    "TICKETS_PAGINATE",
    "TICKETS_NEXT_PATH",
    "TICKETS_HAS_MORE_PATH",
    "TICKETS_CURSOR_PATH",
    "TICKETS_PAGE_PARAM",
    "TICKETS_SIZE_PARAM",
    "TICKETS_TOTAL_PATH",
    "TICKETS_PAGE_SIZE",
    "TICKETS_MAX_PAGES",
    "TICKETS_MAX_WAIT",
    "TICKETS_ITEMS",
    "TICKETS_ID_FIELD",
    "TICKETS_CATEGORY_FIELD",
    "TICKETS_STATUS_FIELD",
    "TICKETS_CLOSED_STATUSES",
    "TICKETS_MISSING_CATEGORY",
    "TICKETS_SKIP_FIELD",
]


def fetch_tickets(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(url, timeout=5) as response:
        document = json.load(response)
    return document["tickets"] if isinstance(document, dict) else document


@pytest.fixture
def reference_input(tmp_path: Path) -> Path:
    return write_json(tmp_path / "reference.json", REFERENCE)


# -- --help ----------------------------------------------------------------------


def test_help_documents_every_option_env_variable_and_exit_code() -> None:
    result = run_cli("--help")
    assert_ok(result)
    text = result.stdout
    parser_options = {
        option
        for action in cli.build_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    assert parser_options == set(OPTIONS)
    for option in OPTIONS:
        assert re.search(rf"^\s+(--[\w-]+, )?{option}\b.*\S", text, re.MULTILINE), option
    for name in ENV_NAMES:
        assert name in text, name
    assert "exit codes" in text
    documented = [("0", "saved"), ("2", "usage"), ("3", "fetch"), ("4", "invalid"), ("5", "write")]
    for code, word in documented:
        assert re.search(rf"^\s+{code}\s+.*{word}", text, re.MULTILINE), code
    assert re.search(r"^\s+130/143\s", text, re.MULTILINE)


# -- end to end with the mock API ------------------------------------------------


@pytest.fixture(scope="module")
def seeded_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockApi]:
    """A mock API serving the same 40 tickets on every request (--seed)."""
    api = MockApi(("--seed", "7", "--count", "40"), tmp_path_factory.mktemp("seeded_api"), 10.0)
    yield api
    api.stop()


@pytest.mark.parametrize(
    ("query", "statuses"),
    [("", ["open"]), ("?body=list", ["open"]), ("", ["closed", "open"])],
)
def test_mock_api_end_to_end(
    tmp_path: Path, seeded_api: MockApi, query: str, statuses: list[str]
) -> None:
    url = seeded_api.tickets_url + query
    served = fetch_tickets(url)  # --seed: the same data the tool gets
    assert len(served) == 40
    log = tmp_path / "logs"
    result = run_cli("--api", url, "--log", log, *open_status_args(statuses))
    assert_ok(result)
    report = only_report(log)
    assert report.read_bytes() == report_bytes(served, statuses)
    # The console shows the same figures as the file.
    saved = json.loads(report.read_bytes())
    assert result.stdout == console_text(saved, report)
    assert f"Открытые тикеты: {saved['open']['count']}\n" in result.stdout
    for category, count in saved["by_category"].items():
        assert f"\n  - {category}: {count}\n" in result.stdout
    assert sum(saved["by_category"].values()) == 40


# -- environment variables -------------------------------------------------------


def test_env_api_url_and_log_dir(tmp_path: Path, seeded_api: MockApi) -> None:
    log = tmp_path / "from-env"
    env = {"TICKETS_API_URL": seeded_api.tickets_url, "TICKETS_LOG_DIR": str(log)}
    result = run_cli(env=env, cwd=tmp_path)
    assert_ok(result)
    assert only_report(log).read_bytes() == report_bytes(fetch_tickets(seeded_api.tickets_url))
    assert not (tmp_path / "logs").exists()


def test_env_input_lang_open_statuses(tmp_path: Path, reference_input: Path) -> None:
    env = {
        "TICKETS_INPUT": str(reference_input),
        "TICKETS_LANG": "en",
        "TICKETS_OPEN_STATUSES": "closed, open",
    }
    result = run_cli("--log", tmp_path / "logs", env=env)
    assert_ok(result)
    report = only_report(tmp_path / "logs")
    assert report.read_bytes() == report_bytes(REFERENCE, ["open", "closed"])
    assert result.stdout == console_text(
        expected_report(REFERENCE, ["open", "closed"]), report, "en"
    )


@pytest.mark.parametrize(("value", "uuid"), [("true", True), ("1", True), ("no", False)])
def test_env_use_uuid(tmp_path: Path, reference_input: Path, value: str, uuid: bool) -> None:
    env = {"TICKETS_USE_UUID": value}
    assert_ok(run_cli("--input", reference_input, "--log", tmp_path / "l", env=env))
    name = only_report(tmp_path / "l").name
    assert bool(re.fullmatch(r"[2-9A-HJ-NP-Za-km-z]{22}\.json", name)) is uuid, name
    assert bool(TIMESTAMP_NAME.fullmatch(name)) is not uuid, name


def test_env_keep(reference_input: Path, log_dir: Path) -> None:
    before = snapshot(log_dir)
    result = run_cli("--input", reference_input, "--log", log_dir, env={"TICKETS_KEEP": "1"})
    assert_ok(result)
    after = snapshot(log_dir)
    # Both old reports went, the unrelated files stayed.
    assert set(after) - set(before) == {only_report(log_dir, before).name, HISTORY_RECORD}
    assert set(before) - set(after) == {"25-01-01 00-00-00.json", "NFZmUxbw7gHMTsUbvnv2Nb.json"}


def test_env_timeout_max_bytes_retries(tmp_path: Path, shared_mock_api: MockApi) -> None:
    api = shared_mock_api.tickets_url
    log = tmp_path / "logs"
    start = time.monotonic()
    env = {"TICKETS_TIMEOUT": "0.3", "TICKETS_RETRIES": "0"}
    assert_error(run_cli("--api", api + "?delay=2", "--log", log, env=env), 3, "timed out")
    assert time.monotonic() - start < 1.8
    env = {"TICKETS_MAX_BYTES": "100"}
    assert_error(run_cli("--api", api, "--log", log, env=env), 3, "limit of 100 bytes")
    env = {"TICKETS_RETRIES": "0"}
    result = run_cli("--api", api + "?fail_first=1&key=env-retries-0", "--log", log, env=env)
    assert_error(result, 3, "HTTP 503")
    env = {"TICKETS_RETRIES": "1"}
    assert_ok(run_cli("--api", api + "?fail_first=1&key=env-retries-1", "--log", log, env=env))
    assert len(reports(log)) == 1
    assert requests_logged(shared_mock_api, "key=env-retries-0 ", 1) == 1
    assert requests_logged(shared_mock_api, "key=env-retries-1 ", 2) == 2


def test_cli_overrides_env(tmp_path: Path, reference_input: Path, log_dir: Path) -> None:
    env_log = tmp_path / "env-log"
    env = {
        "TICKETS_API_URL": "http://127.0.0.1:1/never-used",
        "TICKETS_LOG_DIR": str(env_log),
        "TICKETS_LANG": "en",
        "TICKETS_OPEN_STATUSES": "closed",
        "TICKETS_KEEP": "1",
        "TICKETS_MAX_BYTES": "10",
        "TICKETS_USE_UUID": "false",
    }
    before = snapshot(log_dir)
    args = ["--input", reference_input, "--log", log_dir, "--lang", "ru", "--open-status", "open"]
    result = run_cli(*args, "--keep", "0", "--max-bytes", "1M", "--uuid", env=env)
    assert_ok(result)
    report = only_report(log_dir, before)
    assert re.fullmatch(r"[2-9A-HJ-NP-Za-km-z]{22}\.json", report.name)
    assert report.read_bytes() == report_bytes(REFERENCE, ["open"])
    assert result.stdout.startswith("\n📊 Отчёт по тикетам\n")
    assert {name: snapshot(log_dir)[name] for name in before} == before  # --keep 0
    assert not env_log.exists()


def test_cli_api_overrides_env_input(tmp_path: Path, seeded_api: MockApi) -> None:
    env = {"TICKETS_INPUT": str(tmp_path / "missing.json"), "TICKETS_TIMEOUT": "0.001"}
    result = run_cli("--api", seeded_api.tickets_url, "--log", tmp_path, "--timeout", "5", env=env)
    assert_ok(result)
    assert only_report(tmp_path).read_bytes() == report_bytes(fetch_tickets(seeded_api.tickets_url))


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("TICKETS_KEEP", "abc", "TICKETS_KEEP"),
        ("TICKETS_KEEP", "-1", "TICKETS_KEEP"),
        ("TICKETS_TIMEOUT", "soon", "TICKETS_TIMEOUT"),
        ("TICKETS_TIMEOUT", "0", "TICKETS_TIMEOUT"),
        ("TICKETS_RETRIES", "many", "TICKETS_RETRIES"),
        ("TICKETS_MAX_BYTES", "lots", "TICKETS_MAX_BYTES"),
        ("TICKETS_EVERY", "often", "TICKETS_EVERY"),
        ("TICKETS_USE_UUID", "maybe", "TICKETS_USE_UUID"),
        ("TICKETS_API_URL", "ftp://example.com/t", "not an http(s) URL"),
    ],
)
def test_bad_env_values(log_dir: Path, name: str, value: str, needle: str) -> None:
    before = snapshot(log_dir)
    source = [] if name == "TICKETS_API_URL" else ["--input", "-"]
    result = run_cli(*source, "--log", log_dir, env={name: value}, stdin=b"[]")
    assert_error(result, 2, needle, value)
    assert snapshot(log_dir) == before


def test_bad_env_lang(log_dir: Path) -> None:
    before = snapshot(log_dir)
    result = run_cli("--input", "-", "--log", log_dir, env={"TICKETS_LANG": "fr"}, stdin=b"[]")
    assert_error(result, 2, "TICKETS_LANG", "fr")
    assert snapshot(log_dir) == before


# -- --check-config and --version ------------------------------------------------


def env_file(path: Path, settings: dict[str, tuple[str | None, str]]) -> Path:
    """An environment file as the role writes it: NAME='value', each below a
    comment naming the role variable it came from (or none)."""
    lines = []
    for name, (source, value) in settings.items():
        if source:
            lines.append(f"# {source}")
        lines.append(f"{name}='{value}'")
    path.write_text("# written by Ansible\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


VALID = {
    "TICKETS_API_URL": ("tickets_api_url", "https://helpdesk.example.com/api/tickets"),
    "TICKETS_LOG_DIR": ("tickets_report_dir", "/var/lib/tickets/reports"),
    "TICKETS_MAX_BYTES": ("tickets_max_response_size", "256M"),
    "TICKETS_TIMEOUT": ("tickets_http_timeout", "10"),
}


def test_check_config_accepts_a_valid_file_and_touches_nothing(tmp_path: Path) -> None:
    path = env_file(tmp_path / "tickets.env", VALID)
    result = run_cli("--check-config", path, cwd=tmp_path)
    assert_ok(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tickets.env"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TICKETS_MAX_BYTES", "0"),
        ("TICKETS_TIMEOUT", "never"),
        ("TICKETS_API_URL", "ftp://helpdesk.example.com/"),
        ("TICKETS_EVERY", "2w"),
    ],
)
def test_check_config_names_the_setting(tmp_path: Path, name: str, value: str) -> None:
    settings = {**VALID, name: ("tickets_the_variable", value)}
    result = run_cli("--check-config", env_file(tmp_path / "tickets.env", settings))
    line = assert_error(result, 2, f"tickets_the_variable ({name}=")
    # A bad setting is one line, not argparse's usage synopsis before it.
    assert result.stderr == line + "\n"


def test_check_config_reads_only_the_file(tmp_path: Path) -> None:
    """The job sees the file's variables: a stray one in the checking
    process's environment neither breaks nor saves the check."""
    path = env_file(tmp_path / "tickets.env", VALID)
    assert_ok(run_cli("--check-config", path, env={"TICKETS_KEEP": "bad"}))
    del_url = {name: v for name, v in VALID.items() if name != "TICKETS_API_URL"}
    path = env_file(tmp_path / "no-url.env", del_url)
    result = run_cli("--check-config", path, env={"TICKETS_API_URL": "http://x/"})
    assert_error(result, 2, "no ticket source")


def test_check_config_reads_the_token_file(tmp_path: Path) -> None:
    token = tmp_path / "token"
    settings = {**VALID, "TICKETS_TOKEN_FILE": ("", str(token))}
    result = run_cli("--check-config", env_file(tmp_path / "tickets.env", settings))
    assert_error(result, 2, "cannot read token file")
    token.write_text("tok-3f9a1c77e2\n")
    result = run_cli("--check-config", env_file(tmp_path / "tickets.env", settings))
    assert_ok(result)
    assert "tok-3f9a1c77e2" not in result.stdout + result.stderr


def test_check_config_refuses_a_malformed_file(tmp_path: Path) -> None:
    path = tmp_path / "tickets.env"
    path.write_text("TICKETS_API_URL='http://x/'\nthis is not an assignment\n")
    assert_error(run_cli("--check-config", path), 2, ":2: not a NAME=VALUE line")
    assert_error(run_cli("--check-config", tmp_path / "missing.env"), 2, "cannot read")


def test_version() -> None:
    from ticketslib import __version__

    result = run_cli("--version")
    assert_ok(result)
    assert result.stdout.split() == ["tickets.py", __version__]


# -- secrets ---------------------------------------------------------------------

TOKEN = "tok-3f9a1c77e2"


def assert_secret_hidden(result: Result, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in result.stderr


def test_token_from_env_is_sent_and_never_shown(
    tmp_path: Path, recording_server: RecordingServer
) -> None:
    recording_server.body = json.dumps({"tickets": REFERENCE}).encode()
    result = run_cli(
        "--api", recording_server.url, "--log", tmp_path, env={"TICKETS_API_TOKEN": TOKEN}
    )
    assert_ok(result)
    assert [r["Authorization"] for r in recording_server.requests] == [f"Bearer {TOKEN}"]
    assert_secret_hidden(result, TOKEN)
    assert only_report(tmp_path).read_bytes() == report_bytes(REFERENCE)


@pytest.mark.parametrize("how", ["option", "env"])
def test_token_file(tmp_path: Path, recording_server: RecordingServer, how: str) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"  {TOKEN}\n\n")
    env = {"TICKETS_API_TOKEN": "ignored-when-a-file-is-given"}
    if how == "option":
        args = ["--token-file", str(token_file)]
        env["TICKETS_TOKEN_FILE"] = str(tmp_path / "missing")  # the option wins
    else:
        args = []
        env["TICKETS_TOKEN_FILE"] = str(token_file)
    result = run_cli("--api", recording_server.url, "--log", tmp_path / "logs", *args, env=env)
    assert_ok(result)
    assert [r["Authorization"] for r in recording_server.requests] == [f"Bearer {TOKEN}"]
    assert_secret_hidden(result, TOKEN)


def test_no_token_no_authorization_header(
    tmp_path: Path, recording_server: RecordingServer
) -> None:
    assert_ok(run_cli("--api", recording_server.url, "--log", tmp_path))
    assert len(recording_server.requests) == 1
    assert "Authorization" not in recording_server.requests[0]


def test_token_never_shown_when_the_request_fails(
    tmp_path: Path, recording_server: RecordingServer
) -> None:
    recording_server.status = 500
    recording_server.body = json.dumps({"error": f"bad token {TOKEN}"}).encode()
    result = run_cli(
        "--api",
        recording_server.url,
        "--log",
        tmp_path,
        "--retries",
        "1",
        env={"TICKETS_API_TOKEN": TOKEN},
    )
    assert_error(result, 3, "HTTP 500")
    assert_secret_hidden(result, TOKEN)
    assert [r["Authorization"] for r in recording_server.requests] == [f"Bearer {TOKEN}"] * 2
    assert reports(tmp_path) == []


@pytest.mark.parametrize("failure", ["http-500", "unreachable"])
def test_url_credentials_never_shown(
    tmp_path: Path, recording_server: RecordingServer, failure: str
) -> None:
    recording_server.status = 500
    port = recording_server.server.server_address[1]
    if failure == "unreachable":
        recording_server.close()
    url = f"http://user:pa55word@127.0.0.1:{port}/tickets?api_key=qu3ry-secret"
    result = run_cli(
        "--api", url, "--log", tmp_path, "--retries", "0", env={"TICKETS_API_TOKEN": TOKEN}
    )
    line = assert_error(result, 3, f"http://127.0.0.1:{port}/tickets")
    assert_secret_hidden(result, "pa55word", "qu3ry-secret", TOKEN, "user:")
    assert ("HTTP 500" in line) is (failure == "http-500")


@pytest.mark.parametrize("content", [None, "", " \n\t\n"])
def test_token_file_missing_or_empty(tmp_path: Path, log_dir: Path, content: str | None) -> None:
    token_file = tmp_path / "token"
    if content is not None:
        token_file.write_text(content)
    before = snapshot(log_dir)
    result = run_cli("--api", "http://127.0.0.1:1/", "--token-file", token_file, "--log", log_dir)
    assert_error(result, 2, "token file", str(token_file))
    assert snapshot(log_dir) == before


def test_token_with_line_break_never_shown(
    tmp_path: Path, recording_server: RecordingServer
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("first-s3cret\nsecond-s3cret\n")
    result = run_cli("--api", recording_server.url, "--token-file", token_file, "--log", tmp_path)
    assert_secret_hidden(result, "s3cret")
    assert_error(result, 2, "token")


def test_token_not_latin1(tmp_path: Path, recording_server: RecordingServer) -> None:
    result = run_cli(
        "--api", recording_server.url, "--log", tmp_path, env={"TICKETS_API_TOKEN": "токен-s3cret"}
    )
    assert_secret_hidden(result, "s3cret")
    assert_error(result, 2, "token")


# -- signals ---------------------------------------------------------------------


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_a_slow_fetch(
    tmp_path: Path, mock_api: MockApiFactory, sig: signal.Signals, code: int
) -> None:
    api = mock_api("--fault-delay", "5")
    log = tmp_path / "logs"
    process = start_cli("--api", api.tickets_url, "--log", log)
    # The temporary report appears just before the request is sent.
    deadline = time.monotonic() + 10
    while not (log.is_dir() and temp_files(log)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert temp_files(log), "the run did not get to the fetch"
    time.sleep(0.3)
    assert process.poll() is None
    sent = time.monotonic()
    process.send_signal(sig)
    result = finish(process, timeout=10)
    assert time.monotonic() - sent < 1.5
    assert result.returncode == code
    assert "Traceback" not in result.stderr
    assert ("interrupted" in result.stderr) is (sig == signal.SIGINT)
    assert result.stdout == ""
    assert list(log.iterdir()) == []  # no report, no temporary file


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("TICKETS_PRESET", "servicenow", "expected one of redmine, github"),
        ("TICKETS_PRESET", "list", "expected the name of a preset"),
        ("TICKETS_AUTH", "digest", "expected bearer, basic or header:NAME"),
        ("TICKETS_AUTH", "header:", "expected bearer, basic or header:NAME"),
        ("TICKETS_AUTH", "header:X Key", "expected bearer, basic or header:NAME"),
        ("TICKETS_PAGINATE", "links", "expected one of auto, link"),
        ("TICKETS_NEXT_PATH", "links..next", "expected a dotted path"),
        ("TICKETS_HAS_MORE_PATH", "meta.", "expected a dotted path"),
        ("TICKETS_CURSOR_PATH", "a.0", "expected object keys"),
        ("TICKETS_PAGE_PARAM", "page size", "expected a query parameter name"),
        ("TICKETS_SIZE_PARAM", "a=b", "expected a query parameter name"),
        ("TICKETS_TOTAL_PATH", ".", "expected a dotted path"),
        ("TICKETS_PAGE_SIZE", "-5", "expected a whole number >= 0"),
        ("TICKETS_MAX_PAGES", "0", "expected a whole number > 0"),
        ("TICKETS_MAX_WAIT", "soon", "expected a positive number"),
        ("TICKETS_ITEMS", "data.0", "expected object keys"),
        ("TICKETS_ID_FIELD", "", None),  # empty: the default
        ("TICKETS_CATEGORY_FIELD", "a..b", "expected a dotted path"),
        ("TICKETS_STATUS_FIELD", "status.", "expected a dotted path"),
        ("TICKETS_CLOSED_STATUSES", " , ", "names no status"),
        ("TICKETS_SKIP_FIELD", "..", "expected a dotted path"),
    ],
)
def test_check_config_checks_every_new_option(
    tmp_path: Path, name: str, value: str, needle: str | None
) -> None:
    settings = {**VALID, name: ("tickets_the_variable", value)}
    result = run_cli("--check-config", env_file(tmp_path / "tickets.env", settings))
    if needle is None:
        assert_ok(result)
        return
    assert_error(result, 2, f"tickets_the_variable ({name}=", needle)


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        (
            {"TICKETS_OPEN_STATUSES": "open", "TICKETS_CLOSED_STATUSES": "closed"},
            "--open-status and --closed-status exclude each other",
        ),
        (
            {
                "TICKETS_PRESET": "jira",
                "TICKETS_API_URL": "https://x.atlassian.net/rest/api/3/search/jql",
            },
            "--preset jira: the URL needs a jql= query parameter",
        ),
    ],
)
def test_check_config_refuses_contradictions(
    tmp_path: Path, settings: dict[str, str], needle: str
) -> None:
    merged = {**VALID, **{name: ("", value) for name, value in settings.items()}}
    assert_error(run_cli("--check-config", env_file(tmp_path / "tickets.env", merged)), 2, needle)


def test_check_config_with_every_preset(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("me@example.com:s3cret\n")
    for name in ("redmine", "github", "gitlab", "zendesk", "jira", "freshdesk", "json-server"):
        settings = {
            **VALID,
            "TICKETS_API_URL": ("", "https://h.example/api?jql=project%3DHD"),
            "TICKETS_PRESET": ("tickets_preset", name),
            "TICKETS_TOKEN_FILE": ("", str(token)),
            "TICKETS_PAGE_SIZE": ("", "0"),
            "TICKETS_MAX_WAIT": ("", "0"),
        }
        result = run_cli("--check-config", env_file(tmp_path / f"{name}.env", settings))
        assert_ok(result)
        assert "s3cret" not in result.stdout


def test_basic_auth_token_is_checked_by_check_config(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("no-colon-s3cret\n")
    settings = {
        **VALID,
        "TICKETS_AUTH": ("tickets_auth", "basic"),
        "TICKETS_TOKEN_FILE": ("", str(token)),
    }
    result = run_cli("--check-config", env_file(tmp_path / "tickets.env", settings))
    line = assert_error(result, 2, "is not user:secret, as --auth basic needs")
    assert "s3cret" not in line


def test_preset_list() -> None:
    result = run_cli("--preset", "list")
    assert_ok(result)
    for name in ("redmine", "github", "gitlab", "zendesk", "jira", "freshdesk", "json-server"):
        assert re.search(rf"^{re.escape(name)}: ", result.stdout, re.MULTILINE), name
    assert "    --status-field status.is_closed" in result.stdout
    assert "    --skip-field pull_request" in result.stdout
    assert "    query status_id=*&sort=id" in result.stdout


def test_flags_override_a_preset(tmp_path: Path, recording_server: RecordingServer) -> None:
    recording_server.body = json.dumps(
        {
            "items": [
                {"id": 1, "kind": "bug", "state": "new"},
                {"id": 2, "kind": "x", "state": "done"},
            ]
        }
    ).encode()
    args = ["--preset", "zendesk", "--items", "items", "--category-field", "kind"]
    args += ["--status-field", "state", "--open-status", "new", "--paginate", "none"]
    result = run_cli("--api", recording_server.url + "?page%5Bsize%5D=5", "--log", tmp_path, *args)
    assert_ok(result)
    saved = json.loads(only_report(tmp_path).read_bytes())
    assert saved["open"]["count"] == 1 and saved["by_category"] == {"bug": 1, "x": 1}
    # The URL's own query parameter wins over the preset's page[size]=100.
    assert recording_server.requests[0]["path"] == "/tickets?page%5Bsize%5D=5"


def test_input_takes_the_items_path_and_the_preset(tmp_path: Path) -> None:
    """A saved page of a real helpdesk, read with --input, is read by the same
    rules as when fetched: --items and a preset's fields apply."""
    page = {
        "issues": [
            {"id": 1, "status": {"id": 1, "name": "New", "is_closed": False}},
            {"id": 2, "status": {"id": 5, "name": "Closed", "is_closed": True}},
            {
                "id": 3,
                "status": {"id": 1, "name": "New", "is_closed": False},
                "category": {"id": 7, "name": "billing"},
            },
        ],
        "total_count": 3,
        "offset": 0,
        "limit": 100,
    }
    source = write_json(tmp_path / "issues.json", page)
    result = run_cli("--preset", "redmine", "--input", source, "--log", tmp_path / "logs")
    assert_ok(result)
    report = json.loads(only_report(tmp_path / "logs").read_text())
    assert report["open"]["count"] == 2
    assert report["by_category"] == {"(none)": 2, "billing": 1}
    # A Redmine whose issues carry no status.is_closed: one line, exit 4.
    for issue in page["issues"]:
        del issue["status"]["is_closed"]
    result = run_cli("--preset", "redmine", "--input", write_json(source, page), "--log", tmp_path)
    assert_error(result, 4, "ticket 1", "'status.is_closed'")
    # The generic option does the same without a preset.
    result = run_cli(
        "--items",
        "issues",
        "--status-field",
        "status.name",
        "--open-status",
        "New",
        "--category-field",
        "category.name",
        "--missing-category",
        "-",
        "--input",
        source,
        "--log",
        tmp_path / "generic",
    )
    assert_ok(result)
    report = json.loads(only_report(tmp_path / "generic").read_text())
    assert report["open"]["count"] == 2
    assert report["by_category"] == {"-": 2, "billing": 1}
