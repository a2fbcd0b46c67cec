"""The command line: options (flags and TICKETS_* environment), a run, exit codes."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import time
from datetime import datetime, timezone
from typing import Any, NoReturn
from urllib.parse import urlsplit

import shortuuid

from . import __version__, history
from .cleanup import remove_stale_temp_files
from .errors import (
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_USAGE,
    PRIORITY_ERR,
    Terminated,
    TicketsError,
    UsageError,
    describe_os_error,
    error,
    say,
)
from .fetch import open_api, open_input, redact, redact_text
from .html import write_page
from .memory import keep_freed_blocks
from .metrics import Figures, write_metrics
from .output import LABELS, TIMESTAMP_FORMAT, ReportWriter, print_report, prune
from .parse import Tally, capped, ticket_batches
from .schedule import duration, every

DEFAULT_MAX_BYTES = 256 * 1024 * 1024

# --------------------------------------------------------------------------
# Command line
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


class Parser(argparse.ArgumentParser):
    """argparse whose error line reaches the journal at priority err, like the
    others, and quotes no URL unredacted (e.g. "unrecognized arguments:
    http://user:password@host/")."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        say(PRIORITY_ERR, f"{self.prog}: error: {redact_text(message)}")
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
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
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--api",
        metavar="URL",
        type=http_url,
        help='ticket API to GET: it answers a JSON list of tickets or {"tickets": [...]} '
        "(env TICKETS_API_URL)",
    )
    source.add_argument(
        "--input",
        metavar="PATH",
        help="read the ticket list from a file instead, '-' for stdin (env TICKETS_INPUT)",
    )
    parser.add_argument(
        "--log",
        metavar="DIR",
        help="directory for the JSON reports, created when missing (env TICKETS_LOG_DIR; "
        "default: ./logs)",
    )
    parser.add_argument(
        "--uuid",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="name the report with a short UUID instead of the UTC time of the fetch "
        "'YY-MM-DD HH-MM-SS.json' (env TICKETS_USE_UUID=true)",
    )
    parser.add_argument(
        "--keep",
        metavar="N",
        type=non_negative_int,
        help="keep only the newest N reports this tool wrote in DIR; other files are never "
        "touched; 0 keeps all (env TICKETS_KEEP; default: 0)",
    )
    parser.add_argument(
        "--open-status",
        metavar="STATUS",
        action="append",
        help="a status that counts as unresolved; repeat for several (env "
        "TICKETS_OPEN_STATUSES, comma-separated; default: open)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=positive_float,
        help="connect and read timeout (env TICKETS_TIMEOUT; default: 10)",
    )
    parser.add_argument(
        "--retries",
        metavar="N",
        type=non_negative_int,
        help="retries with exponential backoff on connection errors, 429 and 5xx "
        "(env TICKETS_RETRIES; default: 3)",
    )
    parser.add_argument(
        "--max-bytes",
        metavar="SIZE",
        type=byte_size,
        help="refuse a response larger than SIZE (e.g. 512K, 256M, 1G; env "
        "TICKETS_MAX_BYTES; default: 256M)",
    )
    parser.add_argument(
        "--token-file",
        metavar="PATH",
        help="file holding a bearer token for the API (env TICKETS_TOKEN_FILE; or the token "
        "itself in TICKETS_API_TOKEN); the token is never printed",
    )
    parser.add_argument(
        "--lang",
        choices=sorted(LABELS),
        help="language of the console report (env TICKETS_LANG; default: ru)",
    )
    parser.add_argument(
        "--metrics",
        metavar="FILE",
        help="after every run, success or failure, write the job's health in Prometheus "
        "text format to FILE, atomically (for node_exporter's textfile collector; env "
        "TICKETS_METRICS_FILE)",
    )
    parser.add_argument(
        "--max-list",
        metavar="N",
        type=non_negative_int,
        help="print at most N unresolved tickets, then how many more the report file "
        "holds (env TICKETS_MAX_LIST; default: all)",
    )
    parser.add_argument(
        "--every",
        metavar="DURATION",
        type=duration,
        help="stay in the foreground and run at every DURATION (3h, 30m, 1h30m) on a grid "
        "from UTC midnight, until SIGTERM/SIGINT (env TICKETS_EVERY)",
    )
    parser.add_argument(
        "--check-config",
        metavar="ENV_FILE",
        nargs="?",
        const="",
        help="check the options (flags, environment and ENV_FILE if given, a file of "
        "NAME='value' lines as systemd and sh read them), the token file and the log "
        "directory's parent, then exit: 0 when they are valid, else 2 with one line "
        "naming the setting",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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
    api: str | None
    input: str | None
    log: str
    uuid: bool | None
    keep: int
    open_status: list[str] | None
    timeout: float
    retries: int
    max_bytes: int
    token_file: str | None
    lang: str
    history: int | None
    html: str | None
    metrics: str | None
    max_list: int | None
    every: int | None
    check_config: str | None


# Visible ASCII: what an Authorization header can carry.
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
    return token


def text(value: str) -> str:
    return value


def language(value: str) -> str:
    if value not in LABELS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(sorted(LABELS))}")
    return value


# Options that the environment can set when the command line does not: the
# option's dest, its variable, how the value is read, and the default.
ENVIRONMENT: list[tuple[str, str, Any, str | None]] = [
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


def parse_options(argv: list[str] | None) -> Options:
    parser = build_parser()
    options = parser.parse_args(argv, namespace=Options())
    if options.history is not None and (options.api or options.input):
        parser.error("--history shows the saved reports and fetches nothing: drop --api/--input")
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
        if not options.open_status:
            statuses = env("TICKETS_OPEN_STATUSES", "open") or "open"
            options.open_status = [s.strip() for s in statuses.split(",") if s.strip()]
            if not options.open_status:
                raise env_error("TICKETS_OPEN_STATUSES", statuses, "names no status")
    except (UsageError, argparse.ArgumentTypeError) as exc:
        parser.error(f"{exc}")
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


def trend_only(options: Options) -> bool:
    """Show the saved reports only: --history, or --html without a ticket source."""
    return options.history is not None or bool(
        options.html and not options.api and not options.input
    )


def show_trend(options: Options) -> None:
    runs = history.load(options.log)
    if options.history is not None:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        history.print_history(sys.stdout, runs, options.history, options.log, options.lang, color)
        sys.stdout.flush()
    if options.html:
        write_page(options.html, runs, options.lang)


def run(options: Options) -> Figures:
    token = read_token(options)
    writer = ReportWriter(options.log)  # fail early when DIR is not writable
    try:
        # Inside: a Ctrl-C here still removes the writer's file.
        remove_stale_temp_files(options.log)
        fetched_at = datetime.now(timezone.utc)
        if options.api:
            chunks = open_api(
                options.api, options.timeout, options.retries, token, options.max_bytes
            )
        else:
            chunks = open_input(options.input or "-")
        tally = Tally(options.open_status or ())
        for batch in ticket_batches(capped(chunks, options.max_bytes)):
            writer.add_open(tally.add(batch))
        stem = shortuuid.uuid() if options.uuid else fetched_at.strftime(TIMESTAMP_FORMAT)
        path = writer.publish(tally.open_count, dict(tally.by_category), stem)
    except TicketsError as exc:
        # Tickets added before the failure are formatted still: one may fail first.
        earlier = writer.discard(failed_first=True)
        raise (earlier or exc) from None
    except BaseException:
        writer.discard()
        raise
    history.append(options.log, history.new_run(path, fetched_at, tally.open_by_category))
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    try:
        print_report(sys.stdout.buffer, writer, tally, path, options.lang, color, options.max_list)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); the report is saved all the same.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        writer.console.close()
    if options.keep and prune(options.log, options.keep):
        history.sync(options.log)
    if options.html:
        write_page(options.html, history.load(options.log), options.lang)
    return Figures(tally.open_count, tally.seen, tally.by_category)


def run_once(options: Options) -> int:
    """One run: the report (or the trend view), then the metrics (success or
    failure); the exit code."""
    started, clock = time.time(), time.monotonic()
    figures = None
    trend = trend_only(options)
    try:
        if trend:
            show_trend(options)
        else:
            figures = run(options)
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
        write_metrics(options.metrics, started, time.monotonic() - clock, code, figures)
        remove_stale_temp_files(os.path.dirname(options.metrics) or ".")
    return code


def _terminate(_signum: int, _frame: Any) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    keep_freed_blocks()
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
