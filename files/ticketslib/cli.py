"""The command line: options (flags, TICKETS_* environment, presets), a run
from top to bottom (source pages -> tally -> outputs), exit codes."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, Callable, NoReturn, Optional
from urllib.parse import parse_qs, urlsplit

import shortuuid

from . import __version__, history, store
from .errors import (
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_USAGE,
    PRIORITY_ERR,
    Terminated,
    TicketsError,
    UsageError,
    WriteError,
    describe_os_error,
    error,
    say,
    warn,
)
from .html import write_page
from .metrics import Figures, Stats, write_metrics
from .paging import DEFAULT_MAX_PAGES, STYLES, Batch, Paging, crawl
from .presets import PRESETS, describe
from .report import Fields, ReportFile, Tally, print_report
from .schedule import duration, every
from .stream import Document, Path, open_input
from .text import LABELS, Progress, color_enabled, redact, redact_text

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_WAIT = 120.0

# --------------------------------------------------------------------------
# Values of options (argparse types, also used for the environment and presets)
# --------------------------------------------------------------------------


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value if value else default


def env_flag(name: str) -> bool:
    value = (env(name) or "false").lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"{name}={value!r}: expected true or false")


def http_url(value: str) -> str:
    parts = urlsplit(value)
    # Shown redacted: the value may hold user:password@ or ?api_key=...
    shown = f": {redact(value)!r}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http(s) URL{shown}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port in URL{shown}") from None
    return value


def positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 < number < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
    return number


def non_negative_float(value: str) -> float:
    return 0.0 if value.strip() in ("0", "0.0") else positive_float(value)


def non_negative_int(value: str) -> int:
    if not value.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value!r}")
    return int(value)


def positive_int(value: str) -> int:
    if not value.strip().isdigit() or int(value) == 0:
        raise argparse.ArgumentTypeError(f"expected a whole number > 0, got {value!r}")
    return int(value)


def byte_size(value: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([KMG]i?B?|B)?\s*", value, re.IGNORECASE)
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(
            f"expected a size like 1048576, 512K, 256M or 1G, got {value!r}"
        )
    unit = (match.group(2) or "B")[0].upper()
    return int(match.group(1)) * {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit]


def text(value: str) -> str:
    return value


def choice(names: Any) -> Callable[[str], str]:
    def read(value: str) -> str:
        if value not in names:
            raise argparse.ArgumentTypeError(f"expected one of {', '.join(names)}, got {value!r}")
        return value

    return read


language = choice(sorted(LABELS))
paginate_style = choice(STYLES)
preset_name = choice([*PRESETS, "list"])


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def auth_scheme(value: str) -> str:
    """bearer, basic or header:NAME (NAME an HTTP header name)."""
    if value in ("bearer", "basic") or (
        value.startswith("header:") and _HEADER_NAME.fullmatch(value[7:])
    ):
        return value
    raise argparse.ArgumentTypeError(f"expected bearer, basic or header:NAME, got {value!r}")


def dotted_path(value: str) -> Path:
    """'status.name' or 'labels.0.name' (a number steps into a list)."""
    steps = value.strip().split(".")
    if not value.strip() or not all(steps):
        raise argparse.ArgumentTypeError(f"expected a dotted path like status.name, got {value!r}")
    return tuple(int(step) if step.isdigit() else step for step in steps)


def keys_path(value: str) -> Path:
    """A dotted path of object keys only (where the ticket list is)."""
    path = dotted_path(value)
    if any(isinstance(step, int) for step in path):
        raise argparse.ArgumentTypeError(f"expected object keys like data.items, got {value!r}")
    return path


def param_name(value: str) -> str:
    if not value.strip() or re.search(r"[\s&=#]", value):
        raise argparse.ArgumentTypeError(f"expected a query parameter name, got {value!r}")
    return value.strip()


def status_list(value: str) -> list[str]:
    """Comma-separated statuses (an environment variable)."""
    statuses = [s.strip() for s in value.split(",") if s.strip()]
    if not statuses:
        raise argparse.ArgumentTypeError("names no status")
    return statuses


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """argparse whose error line reaches the journal at priority err, like the
    others, and quotes no URL unredacted (e.g. "unrecognized arguments:
    http://user:password@host/")."""

    def error(self, message: str) -> NoReturn:
        """A bad command line: the usage, then the error line."""
        self.print_usage(sys.stderr)
        self.fail(message)

    def fail(self, message: str) -> NoReturn:
        """A bad setting (environment, environment file, preset): its line only."""
        say(PRIORITY_ERR, f"{self.prog}: error: {redact_text(message)}")
        sys.exit(EXIT_USAGE)


def build_parser() -> Parser:
    parser = Parser(
        prog=os.path.basename(sys.argv[0]) or "tickets",
        description=(
            "Fetch a helpdesk's tickets, print a report (unresolved tickets; tickets per "
            "category) and save it as JSON under a unique name in the log directory. "
            "Every option can also be set by the environment variable named in its help."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--api",
        metavar="URL",
        type=http_url,
        help='ticket API to GET: it answers a JSON list of tickets or {"tickets": [...]}, '
        "page after page (env TICKETS_API_URL)",
    )
    source.add_argument(
        "--input",
        metavar="PATH",
        help="read the ticket list from a file instead, '-' for stdin (env TICKETS_INPUT)",
    )
    add(
        "--log",
        metavar="DIR",
        help="directory for the JSON reports, created when missing (env TICKETS_LOG_DIR; "
        "default: ./logs)",
    )
    add(
        "--uuid",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="name the report with a short UUID instead of the UTC time of the fetch "
        "'YY-MM-DD HH-MM-SS.json' (env TICKETS_USE_UUID=true)",
    )
    add(
        "--keep",
        metavar="N",
        type=non_negative_int,
        help="keep only the newest N reports this tool wrote in DIR; other files are never "
        "touched; 0 keeps all (env TICKETS_KEEP; default: 0)",
    )
    add(
        "--timeout",
        metavar="SECONDS",
        type=positive_float,
        help="connect and read timeout (env TICKETS_TIMEOUT; default: 10)",
    )
    add(
        "--retries",
        metavar="N",
        type=non_negative_int,
        help="retries with exponential backoff on connection errors, 429 and 5xx, and "
        "rate-limit waits, per request (env TICKETS_RETRIES; default: 3)",
    )
    add(
        "--max-bytes",
        metavar="SIZE",
        type=byte_size,
        help="refuse a response (a page) larger than SIZE (e.g. 512K, 256M, 1G; env "
        "TICKETS_MAX_BYTES; default: 256M)",
    )
    add(
        "--token-file",
        metavar="PATH",
        help="file holding the API's token (env TICKETS_TOKEN_FILE; or the token itself in "
        "TICKETS_API_TOKEN); for --auth basic it is user:secret; it is never printed",
    )
    add(
        "--lang",
        type=language,
        help="language of the console report: en or ru (env TICKETS_LANG; default: ru)",
    )
    add(
        "--metrics",
        metavar="FILE",
        help="after every run, success or failure, write the job's health in Prometheus "
        "text format to FILE, atomically (for node_exporter's textfile collector; env "
        "TICKETS_METRICS_FILE)",
    )
    add(
        "--max-list",
        metavar="N",
        type=non_negative_int,
        help="print at most N unresolved tickets, then how many more the report file "
        "holds (env TICKETS_MAX_LIST; default: all)",
    )
    add(
        "--every",
        metavar="DURATION",
        type=duration,
        help="stay in the foreground and run at every DURATION (3h, 30m, 1h30m) on a grid "
        "from UTC midnight, until SIGTERM/SIGINT (env TICKETS_EVERY)",
    )
    add(
        "--check-config",
        metavar="ENV_FILE",
        nargs="?",
        const="",
        help="check the options (flags, environment and ENV_FILE if given, a file of "
        "NAME='value' lines as systemd and sh read them), the token file and the log "
        "directory's parent, then exit: 0 when they are valid, else 2 with one line "
        "naming the setting",
    )
    add("--version", action="version", version=f"%(prog)s {__version__}")

    helpdesk = parser.add_argument_group(
        "helpdesk",
        "What a ticket is in the API's answer. Dotted paths (status.name, labels.0.name) "
        "name a field; its value, a string, a number or true/false, is compared and shown "
        "as text. A preset sets all of these for a documented API; explicit options win.",
    )
    hadd = helpdesk.add_argument
    hadd(
        "--preset",
        metavar="NAME",
        type=preset_name,
        help=f"settings of a documented API: {', '.join(PRESETS)}; 'list' prints them "
        "(env TICKETS_PRESET)",
    )
    hadd(
        "--auth",
        metavar="SCHEME",
        type=auth_scheme,
        help="how the token is sent: bearer (Authorization: Bearer), basic (the token is "
        "user:secret) or header:NAME (a header of its own) (env TICKETS_AUTH; default: bearer)",
    )
    hadd(
        "--items",
        metavar="PATH",
        type=keys_path,
        help="where the ticket list is in a page, e.g. issues or data.items (env "
        "TICKETS_ITEMS; default: the page itself when it is a list, else tickets)",
    )
    hadd(
        "--id-field",
        metavar="PATH",
        type=dotted_path,
        help="the ticket's id, unique in the list (env TICKETS_ID_FIELD; default: id)",
    )
    hadd(
        "--category-field",
        metavar="PATH",
        type=dotted_path,
        help="the ticket's category (env TICKETS_CATEGORY_FIELD; default: category)",
    )
    hadd(
        "--status-field",
        metavar="PATH",
        type=dotted_path,
        help="the ticket's status (env TICKETS_STATUS_FIELD; default: status)",
    )
    hadd(
        "--open-status",
        metavar="STATUS",
        action="append",
        help="a status that counts as unresolved; repeat for several (env "
        "TICKETS_OPEN_STATUSES, comma-separated; default: open)",
    )
    hadd(
        "--closed-status",
        metavar="STATUS",
        action="append",
        help="instead: a status that counts as resolved, all others unresolved; repeat for "
        "several (env TICKETS_CLOSED_STATUSES, comma-separated)",
    )
    hadd(
        "--missing-category",
        metavar="LABEL",
        help="count tickets without a category under LABEL (env TICKETS_MISSING_CATEGORY; "
        "default: such a ticket is invalid data)",
    )
    hadd(
        "--skip-field",
        metavar="PATH",
        type=dotted_path,
        help="drop items that have this field (not null): they are not tickets, e.g. "
        "GitHub's pull_request (env TICKETS_SKIP_FIELD)",
    )

    paging = parser.add_argument_group(
        "pagination",
        'A Link header\'s rel="next" is followed without any option. A crawl is all or '
        "nothing: if a page fails, nothing is written. A next link to another origin, a "
        "page visited twice and more than --max-pages pages are refused (exit 3).",
    )
    padd = paging.add_argument
    padd(
        "--paginate",
        metavar="STYLE",
        type=paginate_style,
        help="auto (the Link header, or --next-path/--cursor-path when given), link, "
        "next-url, offset, page, cursor or none (env TICKETS_PAGINATE; default: auto)",
    )
    padd(
        "--next-path",
        metavar="PATH",
        type=keys_path,
        help="next-url: where the next page's URL is in the body, e.g. next_page or "
        "links.next; null or absent on the last page (env TICKETS_NEXT_PATH)",
    )
    padd(
        "--has-more-path",
        metavar="PATH",
        type=keys_path,
        help="next-url, cursor: a true/false saying whether more pages follow, e.g. "
        "meta.has_more (env TICKETS_HAS_MORE_PATH)",
    )
    padd(
        "--cursor-path",
        metavar="PATH",
        type=keys_path,
        help="cursor: where the next page's token is in the body, e.g. nextPageToken; "
        "absent or null on the last page (env TICKETS_CURSOR_PATH)",
    )
    padd(
        "--page-param",
        metavar="NAME",
        type=param_name,
        help="the query parameter of the offset (default: offset), the page number "
        "(default: page) or the token (default: cursor) (env TICKETS_PAGE_PARAM)",
    )
    padd(
        "--size-param",
        metavar="NAME",
        type=param_name,
        help="the query parameter of the page size (default: limit for offset and cursor, "
        "per_page otherwise) (env TICKETS_SIZE_PARAM)",
    )
    padd(
        "--total-path",
        metavar="PATH",
        type=keys_path,
        help="offset: the server's total of tickets, e.g. total_count; page: its number of "
        "pages; a change during the crawl is a warning (env TICKETS_TOTAL_PATH)",
    )
    padd(
        "--page-size",
        metavar="N",
        type=non_negative_int,
        help="tickets per page to ask for (env TICKETS_PAGE_SIZE; default: the server's; "
        "0: the server's)",
    )
    padd(
        "--max-pages",
        metavar="N",
        type=positive_int,
        help=f"refuse a crawl of more pages (env TICKETS_MAX_PAGES; default: {DEFAULT_MAX_PAGES})",
    )
    padd(
        "--max-wait",
        metavar="SECONDS",
        type=non_negative_float,
        help="wait for a rate limit (429/503 Retry-After, GitHub's x-ratelimit-reset) at most "
        "this long; a longer wait fails at once (env TICKETS_MAX_WAIT; default: 120)",
    )

    trend = parser.add_argument_group(
        "trend view",
        "Without --api/--input, --history and --html show the reports already in DIR "
        "and fetch nothing.",
    )
    trend.add_argument(
        "--history",
        metavar="N",
        nargs="?",
        const=history.DEFAULT_RUNS,
        type=positive_int,
        help="print the newest N runs (default: 16), oldest first: time, unresolved "
        "tickets and their change, unresolved per category, and a sparkline",
    )
    trend.add_argument(
        "--html",
        metavar="FILE",
        help="write a self-contained HTML page with the trend chart of every report in DIR "
        "and the latest run's table; with --api/--input, after the run (env TICKETS_HTML_FILE)",
    )
    return parser


class Options(argparse.Namespace):
    api: Optional[str]  # noqa: UP045 - argparse reads nothing here; kept 3.9-compatible
    input: Optional[str]  # noqa: UP045
    log: str
    uuid: Optional[bool]  # noqa: UP045
    keep: int
    timeout: float
    retries: int
    max_bytes: int
    token_file: Optional[str]  # noqa: UP045
    lang: str
    history: Optional[int]  # noqa: UP045
    html: Optional[str]  # noqa: UP045
    metrics: Optional[str]  # noqa: UP045
    max_list: Optional[int]  # noqa: UP045
    every: Optional[int]  # noqa: UP045
    check_config: Optional[str]  # noqa: UP045
    preset: Optional[str]  # noqa: UP045
    auth: Optional[str]  # noqa: UP045
    items: Optional[Path]  # noqa: UP045
    id_field: Optional[Path]  # noqa: UP045
    category_field: Optional[Path]  # noqa: UP045
    status_field: Optional[Path]  # noqa: UP045
    open_status: Optional[list[str]]  # noqa: UP045
    closed_status: Optional[list[str]]  # noqa: UP045
    missing_category: Optional[str]  # noqa: UP045
    skip_field: Optional[Path]  # noqa: UP045
    paginate: Optional[str]  # noqa: UP045
    next_path: Optional[Path]  # noqa: UP045
    has_more_path: Optional[Path]  # noqa: UP045
    cursor_path: Optional[Path]  # noqa: UP045
    page_param: Optional[str]  # noqa: UP045
    size_param: Optional[str]  # noqa: UP045
    total_path: Optional[Path]  # noqa: UP045
    page_size: Optional[int]  # noqa: UP045
    max_pages: int
    max_wait: float
    # Set by parse_options from the above:
    fields: Fields
    paging: Paging


# Options that the environment can set when the command line does not: the
# option's dest, its variable, how the value is read, and the default (None:
# a preset's, then the tool's, see resolve()).
ENVIRONMENT: list[tuple[str, str, Any, Optional[str]]] = [  # noqa: UP045
    ("log", "TICKETS_LOG_DIR", text, "logs"),
    ("keep", "TICKETS_KEEP", non_negative_int, "0"),
    ("timeout", "TICKETS_TIMEOUT", positive_float, "10"),
    ("retries", "TICKETS_RETRIES", non_negative_int, "3"),
    ("max_bytes", "TICKETS_MAX_BYTES", byte_size, str(DEFAULT_MAX_BYTES)),
    ("token_file", "TICKETS_TOKEN_FILE", text, None),
    ("lang", "TICKETS_LANG", language, "ru"),
    ("metrics", "TICKETS_METRICS_FILE", text, None),
    ("max_list", "TICKETS_MAX_LIST", non_negative_int, None),
    ("every", "TICKETS_EVERY", duration, None),
    ("html", "TICKETS_HTML_FILE", text, None),
    ("preset", "TICKETS_PRESET", preset_name, None),
    ("auth", "TICKETS_AUTH", auth_scheme, None),
    ("paginate", "TICKETS_PAGINATE", paginate_style, None),
    ("next_path", "TICKETS_NEXT_PATH", keys_path, None),
    ("has_more_path", "TICKETS_HAS_MORE_PATH", keys_path, None),
    ("cursor_path", "TICKETS_CURSOR_PATH", keys_path, None),
    ("page_param", "TICKETS_PAGE_PARAM", param_name, None),
    ("size_param", "TICKETS_SIZE_PARAM", param_name, None),
    ("total_path", "TICKETS_TOTAL_PATH", keys_path, None),
    ("page_size", "TICKETS_PAGE_SIZE", non_negative_int, None),
    ("max_pages", "TICKETS_MAX_PAGES", positive_int, str(DEFAULT_MAX_PAGES)),
    ("max_wait", "TICKETS_MAX_WAIT", non_negative_float, str(DEFAULT_MAX_WAIT)),
    ("items", "TICKETS_ITEMS", keys_path, None),
    ("id_field", "TICKETS_ID_FIELD", dotted_path, None),
    ("category_field", "TICKETS_CATEGORY_FIELD", dotted_path, None),
    ("status_field", "TICKETS_STATUS_FIELD", dotted_path, None),
    ("open_status", "TICKETS_OPEN_STATUSES", status_list, None),
    ("closed_status", "TICKETS_CLOSED_STATUSES", status_list, None),
    ("missing_category", "TICKETS_MISSING_CATEGORY", text, None),
    ("skip_field", "TICKETS_SKIP_FIELD", dotted_path, None),
]

# What a preset may set: the option's dest, the preset's attribute, how it is read.
FROM_PRESET: list[tuple[str, str, Any]] = [
    ("auth", "auth", auth_scheme),
    ("paginate", "paginate", paginate_style),
    ("items", "items", keys_path),
    ("id_field", "id", dotted_path),
    ("category_field", "category", dotted_path),
    ("status_field", "status", dotted_path),
    ("missing_category", "missing_category", text),
    ("skip_field", "skip", dotted_path),
    ("next_path", "next_path", keys_path),
    ("has_more_path", "has_more_path", keys_path),
    ("cursor_path", "cursor_path", keys_path),
    ("page_param", "page_param", param_name),
    ("size_param", "size_param", param_name),
    ("total_path", "total_path", keys_path),
]

# Where the environment's values came from, by variable, when an environment
# file said so (--check-config FILE): named in the error of a bad value.
SOURCES: dict[str, str] = {}


def env_error(name: str, value: str, reason: object) -> UsageError:
    setting = f"{name}={value!r}"
    if name in SOURCES:
        setting = f"{SOURCES[name]} ({setting})"
    return UsageError(f"{setting}: {reason}")


def from_environment(options: Options) -> None:
    """Fill in each option the command line left unset from its variable (or
    its default); a bad value is an error naming the variable."""
    for dest, name, read, default in ENVIRONMENT:
        if getattr(options, dest, None) is not None:
            continue
        value = env(name)
        if value is None and default is None:
            continue
        try:
            setattr(options, dest, read(value or default))
        except argparse.ArgumentTypeError as exc:
            raise env_error(name, value or "", exc) from None
    if options.page_size == 0:
        options.page_size = None  # 0: the server's (or the preset's)


def resolve(options: Options) -> None:
    """Apply the preset to what neither flags nor environment set, then the
    tool's defaults; build the ticket fields and the paging."""
    preset = PRESETS.get(options.preset or "")
    if preset is not None:
        for dest, attribute, read in FROM_PRESET:
            value = getattr(preset, attribute)
            if getattr(options, dest) is None and value:
                setattr(options, dest, read(value) if isinstance(value, str) else value)
    if options.open_status and options.closed_status:
        raise UsageError(
            "--open-status and --closed-status exclude each other (TICKETS_OPEN_STATUSES, "
            "TICKETS_CLOSED_STATUSES): give the statuses that count as unresolved, or those "
            "that count as resolved"
        )
    if not options.open_status and not options.closed_status and preset is not None:
        options.open_status = list(preset.open_statuses) or None
        options.closed_status = list(preset.closed_statuses) or None
    closed = frozenset(options.closed_status) if options.closed_status else None
    options.auth = options.auth or "bearer"
    options.fields = Fields(
        id=options.id_field or ("id",),
        category=options.category_field or ("category",),
        status=options.status_field or ("status",),
        skip=options.skip_field,
        missing_category=options.missing_category,
        open_statuses=frozenset(options.open_status or ["open"]),
        closed_statuses=closed,
    )
    options.paging = Paging(
        style=options.paginate or "auto",
        next_path=options.next_path,
        has_more_path=options.has_more_path,
        cursor_path=options.cursor_path,
        page_param=options.page_param,
        size_param=options.size_param,
        total_path=options.total_path,
        page_size=options.page_size,
        preset_page_size=preset.page_size if preset is not None else None,
        max_pages=options.max_pages,
        params=preset.params if preset is not None else (),
    )
    if preset is not None and options.api:
        query = parse_qs(urlsplit(options.api).query)
        for name in preset.required_params:
            if not query.get(name):
                raise UsageError(
                    f"--preset {preset.name}: the URL needs a {name}= query parameter "
                    f"(e.g. {preset.example})"
                )


def parse_options(argv: list[str] | None) -> Options:
    parser = build_parser()
    options = parser.parse_args(argv, namespace=Options())
    if options.history is not None and (options.api or options.input):
        parser.error("--history shows the saved reports and fetches nothing: drop --api/--input")
    if options.preset == "list":
        sys.stdout.write(describe())
        sys.stdout.flush()
        sys.exit(EXIT_OK)
    try:
        if options.check_config:
            load_environment_file(options.check_config)
        from_environment(options)
        if options.uuid is None:
            options.uuid = env_flag("TICKETS_USE_UUID")
        if options.api is None and options.input is None:
            options.input = env("TICKETS_INPUT")
            api = env("TICKETS_API_URL")
            if api and options.input:
                raise UsageError("both TICKETS_API_URL and TICKETS_INPUT are set: unset one")
            if api:
                try:
                    options.api = http_url(api)
                except argparse.ArgumentTypeError as exc:
                    raise env_error("TICKETS_API_URL", redact(api), exc) from None
        if options.preset == "list":
            raise env_error("TICKETS_PRESET", "list", "expected the name of a preset")
        resolve(options)
    except (UsageError, argparse.ArgumentTypeError) as exc:
        parser.fail(f"{exc}")
    if not options.api and not options.input and not trend_only(options):
        parser.error("no ticket source: give --api URL (or TICKETS_API_URL) or --input PATH")
    return options


# NAME=VALUE, VALUE optionally in single or double quotes (what systemd's
# EnvironmentFile= and /bin/sh both read the same way).
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(?:'([^']*)'|\"([^\"\\]*)\"|(\S*))\s*")
# A comment line just above an assignment that names where its value came from.
_SOURCE = re.compile(r"#\s*([a-z_][a-z0-9_]*)\s*")


def load_environment_file(path: str) -> None:
    """Read an environment file into the environment this process checks.

    A comment line of one word right above an assignment (``# tickets_keep_reports``,
    as the Ansible role writes it) names the setting the value came from.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = describe_os_error(exc) if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"cannot read environment file {path!r}: {reason}") from None
    # The job sees this file's variables only: none of this process's own.
    for name in [name for name in os.environ if name.startswith("TICKETS_")]:
        del os.environ[name]
    source = None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            match = _SOURCE.fullmatch(stripped)
            source = match.group(1) if match else None
            continue
        match = _ASSIGNMENT.fullmatch(stripped)
        if not match:
            raise UsageError(f"{path}:{number}: not a NAME=VALUE line")
        name = match.group(1)
        value = next(v for v in match.groups()[1:] if v is not None)
        os.environ[name] = value
        if source:
            SOURCES[name] = source
        source = None


# Visible ASCII: what an HTTP header can carry.
_TOKEN = re.compile(r"[\x21-\x7e]+")


def read_token(options: Options) -> str | None:
    if options.token_file:
        try:
            with open(options.token_file, encoding="utf-8") as handle:
                token = handle.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = describe_os_error(exc) if isinstance(exc, OSError) else "not UTF-8 text"
            raise UsageError(f"cannot read token file {options.token_file!r}: {reason}") from None
        if not token:
            raise UsageError(f"token file {options.token_file!r} is empty")
        where = f"the token in {options.token_file!r}"
    else:
        token = env("TICKETS_API_TOKEN")
        where = "TICKETS_API_TOKEN"
    if token is not None and not _TOKEN.fullmatch(token):
        # Never echo it: say only what is wrong.
        raise UsageError(f"{where} has characters not allowed in an HTTP header")
    if token is not None and options.auth == "basic" and ":" not in token:
        raise UsageError(f"{where} is not user:secret, as --auth basic needs (TICKETS_AUTH)")
    return token


# --------------------------------------------------------------------------
# A run
# --------------------------------------------------------------------------


def trend_only(options: Options) -> bool:
    """Show the saved reports only: --history, or --html without a ticket source."""
    return options.history is not None or bool(
        options.html and not options.api and not options.input
    )


def show_trend(options: Options) -> None:
    runs = history.load(options.log)
    if options.history is not None:
        color = color_enabled(sys.stdout)
        history.print_history(sys.stdout, runs, options.history, options.log, options.lang, color)
        sys.stdout.flush()
    if options.html:
        try:
            write_page(options.html, runs, options.lang)
        except OSError as exc:
            raise WriteError(f"cannot write {options.html!r}: {describe_os_error(exc)}") from None


def batches(
    options: Options, token: str | None, stats: Stats, progress: Progress, tally: Tally
) -> Iterator[Batch]:
    """The source: the pages of the API (or the input's one document), a batch at a time."""
    if not options.api:
        document = Document(open_input(options.input or "-", options.max_bytes), options.items)
        for items in document.batches():
            yield Batch(items, 0, False)
        return
    from .fetch import Client, auth_headers  # (urllib3: only with an API to fetch)

    client = Client(
        options.api,
        options.timeout,
        options.retries,
        options.max_bytes,
        headers=auth_headers(options.auth, token) if token else None,
        max_wait=options.max_wait,
        stats=stats,
        on_wait=lambda left: progress.wait(left, "rate limited"),
    )
    try:
        yield from crawl(
            client, options.api, options.paging, options.items, progress, lambda: tally.seen
        )
    finally:
        client.close()


def run(options: Options, stats: Stats) -> Figures:
    token = read_token(options)
    progress = Progress()
    report = ReportFile(options.log)  # fail early when DIR is not writable
    try:
        store.remove_stale_temp_files(options.log)
        fetched_at = datetime.now(timezone.utc)
        tally = Tally(options.fields)
        for batch in batches(options, token, stats, progress, tally):
            report.add(tally.add(batch.items, batch.page, batch.more))
        progress.clear()
        stem = shortuuid.uuid() if options.uuid else fetched_at.strftime(store.TIMESTAMP_FORMAT)
        path = report.publish(tally, stem)
    except BaseException:
        progress.clear()
        report.discard()
        raise
    if tally.duplicates:
        many = tally.duplicates > 1
        warn(
            f"{tally.duplicates} ticket{'s' if many else ''} came on two pages (the list "
            f"changed during the crawl): {'each was' if many else 'it was'} counted once"
        )
    try:
        print_report(
            sys.stdout.buffer,
            report,
            tally,
            path,
            options.lang,
            color_enabled(sys.stdout),
            options.max_list,
        )
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); the report is saved all the same.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        report.close()
    history.append(options.log, history.new_run(path, fetched_at, tally.open_by_category))
    if options.keep and store.prune(options.log, options.keep):
        history.sync(options.log)
    if options.html:
        try:
            write_page(options.html, history.load(options.log), options.lang)
        except (OSError, UsageError) as exc:
            reason = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
            warn(f"cannot write {options.html!r} (the report is saved): {reason}")
    return Figures(tally.open_count, tally.seen, tally.by_category)


def run_once(options: Options) -> int:
    """One run: the report (or the trend view), then the metrics (success or
    failure); the exit code."""
    started, clock = time.time(), time.monotonic()
    figures = None
    stats = Stats()
    trend = trend_only(options)
    try:
        if trend:
            show_trend(options)
        else:
            figures = run(options, stats)
        code = EXIT_OK
    except TicketsError as exc:
        error(redact_text(str(exc)))
        code = exc.exit_code
    except KeyboardInterrupt:
        say(PRIORITY_ERR, "tickets: interrupted")
        code = 130
    except Terminated:
        say(PRIORITY_ERR, "tickets: terminated (SIGTERM)")
        code = 143
    if options.metrics and not trend:
        write_metrics(options.metrics, started, time.monotonic() - clock, code, figures, stats)
        store.remove_stale_temp_files(os.path.dirname(options.metrics) or ".")
    return code


def _terminate(_signum: int, _frame: Any) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    # Also when started with SIGINT ignored (a background job without job control).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    options = parse_options(argv)
    if options.check_config is not None:
        try:
            read_token(options)
        except UsageError as exc:
            error(str(exc))
            return exc.exit_code
        print("tickets: the configuration is valid", flush=True)
        return EXIT_OK
    if options.every and not trend_only(options):
        return every(options.every, lambda: run_once(options))
    return run_once(options)


if __name__ == "__main__":
    sys.exit(main())
