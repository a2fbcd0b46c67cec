#!/usr/bin/env python3
"""Stand-in for the helpdesk ticket API, for local runs and tests.

Standard library only; runs with a bare python3 (3.9+).

Usage:
    python3 mock_api.py [--host 127.0.0.1] [--port 3000] [--seed S] [--count N]
                        [--fault-status NNN] [--fault-delay SECONDS]
                        [--fault-body KIND] [--style NAME] [--token SECRET]

    --port 0 picks a free port. On start one line is printed to stdout:
        mock API listening on http://HOST:PORT/tickets
    and, with --style NAME other than default, a second one:
        mock API style NAME: http://HOST:PORT/PATH   (the style's list endpoint)
    SIGTERM or SIGINT stops the server (exit code 0, last line "mock API stopped").
    One log line per request goes to stderr (a token in the query is shown as ***).

--style default (the default): the mock's own API, unchanged
============================================================

Endpoints:
    GET /tickets   200 {"tickets": [{"id": 1, "category": "billing",
                                     "status": "open"}, ...]}
                   ids 1..N, N random 10..14 unless count is given;
                   category: customer_service | technical | billing;
                   status: open | closed
    GET /healthz   200 "ok"
    GET /_all      the ground truth: see "Knobs" below
    other paths    404 with a JSON error body
    OPTIONS *      204 (CORS preflight); any other method: 405

Query parameters on /tickets (they override the --fault-* / --count / --seed
defaults; applied in this order: delay, fail_first, status, body):
    count=N          number of tickets (0..10000)
    seed=S           seed for this request (same seed => same tickets)
    delay=SECONDS    sleep before answering (float, capped at 60)
    fail_first=N     with key=K: the first N requests with that key answer 503
                     (counted per key; key defaults to "default")
    status=NNN       answer with this HTTP status (200..599) and a JSON error body
    body=KIND        invalid      a body that is not JSON
                     wrong-shape  valid JSON of the wrong shape: {"data": 1}
                     list         a bare JSON list of tickets
                     bad-ticket   the usual object, but the middle ticket
                                  lacks "status"
                     truncated    Content-Length larger than the body sent,
                                  then the connection is closed
mock_delay, mock_key and the mock_ratelimit* knobs below work on /tickets too
(before the parameters above); the paging knobs do not.
With --token SECRET, /tickets requires "Authorization: Bearer SECRET" (else 401).

Example:
    curl 'http://127.0.0.1:3000/tickets?count=3&seed=42'

Vendor styles: --style redmine|github|gitlab|zendesk|jira|freshdesk|json-server
===============================================================================

Each style serves one vendor's ticket list at the vendor's own path, with its
item shape, pagination, default filters, auth scheme and rate-limit headers, so
that a client that crawls the mock correctly crawls the real service. The data
is deterministic: ticket n (1..count) is a pure function of (seed, n); the
defaults are count=137 and seed "mock" (mock_count / mock_seed, --count /
--seed); timestamps lie in the 90 days before the server started. Parameters a
vendor would ignore are ignored (the mock_* knobs among them). The rules below
come from each vendor's documentation or source, cited; [unconfirmed] marks
what no source here confirmed.

--style redmine (Redmine 5/6 REST API; source: redmine/redmine
  app/controllers/application_controller.rb api_offset_and_limit,
  api_key_from_request, require_login; app/views/issues/index.api.rsb;
  app/models/issue_query.rb; app/helpers/application_helper.rb api_meta)
    GET /issues.json, GET /projects/ID/issues.json
    body {"issues": [...], "total_count": N, "offset": O, "limit": L}
         (nometa=1 or an X-Redmine-Nometa header: no total_count/offset/limit)
    issue {"id", "project": {id, name}, "tracker": {id, name},
           "status": {"id", "name", "is_closed"}, "priority": {id, name},
           "author": {id, name}, "assigned_to": {id, name} (only when set),
           "category": {"id", "name"} (ONLY when set: absent otherwise),
           "subject", "description", "start_date", "due_date", "done_ratio",
           "is_private", "estimated_hours", "total_estimated_hours",
           "spent_hours", "total_spent_hours", "created_on", "updated_on",
           "closed_on"}
         statuses (Redmine's default data): 1 New, 2 In Progress, 3 Resolved,
         4 Feedback (is_closed false), 5 Closed, 6 Rejected (is_closed true);
         categories customer_service, technical, billing (ids 1..3)
    paging offset (default 0, negative -> 0), limit (default 25; < 1 -> 25;
         > 100 silently capped at 100); without offset, page=P means offset
         (P-1)*limit. Numbers are read like Ruby's to_i ("7x" -> 7, "x" -> 0).
         A client advances offset by the issues it got and stops at total_count.
    filter without status_id only OPEN issues (IssueQuery's default filter
         status_id "o"); status_id=* all, =o open, =c closed, =ID or =ID|ID,
         =!ID. Other filters are ignored.
    sort sort=COL[:desc][,COL...] over id, created_on, updated_on, status,
         tracker, priority (ascending unless :desc; at most 3; unknown columns
         ignored); issues.id DESC is appended as the tie-breaker unless id is
         named; default id:desc.
    auth X-Redmine-API-Key: SECRET, or key=SECRET, or HTTP Basic with SECRET as
         the user name (any password). Otherwise 401 with an empty body, plus
         "WWW-Authenticate: Basic realm="Redmine API"" when no key was sent.
    rate limits Redmine has none; the knobs answer 429 + Retry-After.

--style github (GitHub REST API; source: docs.github.com "Using pagination in
  the REST API", "Rate limits for the REST API", "List repository issues";
  github/docs content/rest/using-the-rest-api/*.md)
    GET /repos/OWNER/REPO/issues, GET /repositories/ID/issues
    body a JSON list. Pull requests come mixed in (about 1 in 5): they carry
         a "pull_request" key {url, html_url, diff_url, patch_url, merged_at}.
    issue {"url", "repository_url", "labels_url", "comments_url",
           "events_url", "html_url", "id", "node_id", "number", "title",
           "user": {login, id, ...}, "labels": [{"id", "node_id", "url",
           "name", "color", "default", "description"}], "state" (open |
           closed), "state_reason", "locked", "assignee", "assignees",
           "milestone", "comments", "created_at", "updated_at", "closed_at",
           "author_association", "body", ...}
         labels: [] or ONE category label (customer_service, technical,
         billing); real repositories may carry several labels per issue.
    paging page (default 1), per_page (default 30; > 100 -> 100; < 1 or not
         a number -> the default). RFC 8288 Link header with rel="prev",
         "next", "last", "first" (in that order), absent on a single page;
         the URLs point to /repositories/ID/issues (another path, same
         origin, as GitHub's do; ID 1300192 for acme/helpdesk, and the mock
         maps every ID it gave back to its OWNER/REPO) and keep the request's
         other parameters with page=N appended. The crawl follows rel="next" until it is gone.
    filter state=open (default) | closed | all; anything else 422.
         sort=created (default) | updated | comments, direction=desc
         (default) | asc.
    auth Authorization: Bearer SECRET or Authorization: token SECRET;
         otherwise 401 {"message": "Requires authentication" | "Bad
         credentials"} (GitHub itself answers 404 for a private repository
         asked without a token).
    rate limits every answer has x-ratelimit-limit 5000, -remaining (counts
         down to 1 and starts again: never 0 on a 200), -used, -reset (the
         next hour, epoch seconds), -resource core. The knobs' default form is
         "exhausted": 403 (mock_ratelimit_status=429 for 429) with
         x-ratelimit-remaining: 0 and x-ratelimit-reset S seconds ahead, no
         Retry-After; form "secondary": 403 with Retry-After: S.

--style gitlab (GitLab REST API v4; source: gitlabhq/gitlabhq
  doc/api/rest/_index.md, lib/api/issues.rb, lib/api/helpers/pagination.rb,
  lib/gitlab/pagination/offset_*.rb, doc/administration/settings/
  user_and_ip_rate_limits.md; a link seen on gitlab.com: augurlabs/augur#743)
    GET /api/v4/projects/ID/issues  (ID a number or a URL-encoded path)
    body a JSON list
    issue {"id", "iid", "project_id", "title", "description", "state" (opened
           | closed), "created_at", "updated_at", "closed_at", "closed_by",
           "labels": ["billing"] or [] (strings), "milestone", "assignees",
           "author", "assignee", "type": "ISSUE", "user_notes_count",
           "upvotes", "downvotes", "due_date", "confidential", "issue_type",
           "web_url", "references", "severity", ...}
    paging page (default 1), per_page (default 20; > 100 -> 100; < 1 -> 20;
         not an integer -> 400). Headers X-Per-Page, X-Page, X-Next-Page and
         X-Prev-Page (empty when none), Link (rel prev, next, first, last),
         X-Total and X-Total-Pages. Over 10,000 matching issues (and with
         mock_endless) X-Total, X-Total-Pages and rel="last" are left out.
         Link URLs carry every parameter, the defaults included, sorted by
         name: ?id=42&order_by=created_at&page=2&per_page=20&scope=all&
         sort=desc&state=all&with_labels_details=false.
    filter state=all (GitLab's default for project issues) | opened | closed;
         order_by=created_at (default) | updated_at, sort=desc (default) |
         asc; another value -> 400 {"error": "state does not have a valid
         value"}.
    auth PRIVATE-TOKEN: SECRET, or Authorization: Bearer SECRET, or
         private_token=SECRET / access_token=SECRET; otherwise 401
         {"message": "401 Unauthorized"}.
    rate limits the knobs answer 429, body "Retry later\\n", Retry-After: S,
         RateLimit-Name, -Limit, -Observed, -Remaining, -Reset (epoch),
         -ResetTime (HTTP date).

--style zendesk (Zendesk Support API; source: developer.zendesk.com
  "Pagination", "Paginating through lists", "Best practices for avoiding rate
  limiting", "Tickets")
    GET /api/v2/tickets, GET /api/v2/tickets.json
    ticket {"url", "id", "external_id", "via", "created_at", "updated_at",
            "type" (problem | incident | question | task | null), "subject",
            "raw_subject", "description", "priority", "status" (new | open |
            pending | hold | solved | closed), "recipient", "requester_id",
            "submitter_id", "assignee_id", "organization_id", "group_id",
            "tags", "custom_fields", "brand_id", ...}
    offset paging page (default 1), per_page (default 100; > 100 -> 100
         [unconfirmed]). Body {"tickets": [...], "next_page": URL | null,
         "previous_page": URL | null, "count": N}; next_page keeps the other
         parameters (.../api/v2/tickets.json?...&page=N&per_page=P). Beyond
         the first 10,000 records (page*per_page > 10,000): 400.
    cursor paging as soon as a page[size] / page[after] / page[before]
         parameter is given: page[size] (default 100; > 100 -> 400),
         page[after]=CURSOR (or page[before]=CURSOR). Body {"tickets": [...],
         "meta": {"has_more", "after_cursor", "before_cursor"}, "links":
         {"next", "prev"}}, no count. Stop when meta.has_more is false: the
         last page still has an after_cursor and a links.next (to an empty
         page) [unconfirmed]; an empty page has null cursors and links.
    sort sort_by=id (default) | created_at | updated_at | status,
         sort_order=asc (default) | desc.
    auth HTTP Basic "EMAIL/token:SECRET" (any email), or Authorization:
         Bearer SECRET (OAuth); otherwise 401 {"error": "Couldn't
         authenticate you"}.
    rate limits every answer has x-rate-limit 700, x-rate-limit-remaining,
         ratelimit-limit, ratelimit-remaining, ratelimit-reset; the knobs
         answer 429 with Retry-After.

--style jira (Jira Cloud enhanced search; source: developer.atlassian.com
  REST v3 "Search for issues using JQL enhanced search (GET)", the v3 OpenAPI
  text of fields/maxResults, JRACLOUD-92184 (token absent on the last page))
    GET /rest/api/3/search/jql?jql=...
    body {"issues": [...], "isLast": bool, "nextPageToken": "..."}: the
         nextPageToken key is ABSENT (not null) on the last page. No total.
    issue without fields=: {"id": "10042"} only (the documented default is
         fields=id). With fields=a,b (or several fields= parameters, *all,
         *navigable, -name to leave one out): {"expand", "id", "self", "key":
         "HD-42", "fields": {"summary", "status": {"self", "description",
         "iconUrl", "name", "id", "statusCategory": {"self", "id", "key"
         (new | indeterminate | done), "colorName", "name"}}, "issuetype":
         {"self", "id", "description", "iconUrl", "name" (Bug | Task |
         Story), "subtask", "hierarchyLevel"}, "priority", "created",
         "updated", "resolution", "resolutiondate", "project", "labels",
         "assignee", "reporter"}}. statuses To Do (new), In Progress, In
         Review (indeterminate), Done (done).
    paging maxResults (default 50; at most 5000 when only id/key are asked
         for, else at most 100 [the 100 is unconfirmed]); nextPageToken=TOKEN
         from the previous page (opaque, may contain + / =: URL-encode it);
         a bad token -> 400.
    filter jql is required and must be bounded: missing, empty or only an
         ORDER BY clause -> 400 {"errorMessages": ["Unbounded JQL queries
         are not allowed here. ..."]}. Otherwise the JQL is NOT evaluated:
         every issue matches; order: key descending [unconfirmed].
    auth HTTP Basic "EMAIL:SECRET" (any email); otherwise 401 (Jira Cloud may
         answer an anonymous search with 200 and only public issues).
    rate limits the knobs answer 429 with Retry-After.

--style freshdesk (Freshdesk API v2; source: developers.freshdesk.com "List all
  tickets", "Pagination", "Rate limit", as quoted by freshdeskr's manual and
  the Freshworks community)
    GET /api/v2/tickets
    body a JSON list
    ticket {"id", "subject", "status" (2 Open, 3 Pending, 4 Resolved,
            5 Closed), "priority" (1..4), "source", "type" (Question |
            Incident | Problem | Feature Request | null), "requester_id",
            "responder_id", "group_id", "company_id", "tags", "cc_emails",
            "fwd_emails", "reply_cc_emails", "fr_escalated", "spam",
            "is_escalated", "custom_fields", "due_by", "fr_due_by",
            "created_at", "updated_at", ...}
    paging page (default 1, at most 300), per_page (default 30, at most 100);
         beyond either: 400 {"description": "Validation failed", "errors":
         [...]} [the error body is unconfirmed]. A Link header <URL>;
         rel="next" while there are more; none on the last page.
    filter by default only tickets CREATED in the 30 days before the server
         started [one third-party manual says "updated"]; updated_since=ISO
         (e.g. 2000-01-01T00:00:00Z) lists every ticket updated since then
         instead. order_by=created_at (default) | updated_at | due_by |
         status, order_type=desc (default) | asc.
    auth HTTP Basic "SECRET:X" (any password); otherwise 401 {"code":
         "invalid_credentials", ...}.
    rate limits every answer has X-Ratelimit-Total, X-Ratelimit-Remaining,
         X-Ratelimit-Used-CurrentRequest; the knobs answer 429 + Retry-After.

--style json-server (json-server 0.17.4; source: its lib/server/router/
  plural.js, get-full-url.js, utils.js getPage, and answers of the real
  json-server 0.17.4 compared by hand)
    GET /tickets
    body a JSON list, pretty-printed; items {"id", "category", "status"} as
         in the default style (category always set, status open | closed).
    paging without _page: the whole list. _page=P (< 1 -> 1) with _limit=L
         (default 10): X-Total-Count, Access-Control-Expose-Headers:
         X-Total-Count, Link, and a Link header with rel first, prev, next,
         last made by replacing "page=P" in the request URL; the header is
         present but EMPTY when everything fits one page or the page is past
         the end. _start/_end/_limit without _page: a slice, X-Total-Count.
    filter FIELD=VALUE (repeatable: any value matches) on id, category,
         status; _sort=FIELD, _order=asc|desc.
    auth json-server has none: --token is ignored.
    rate limits none; the knobs answer 429 + Retry-After.

Knobs (query parameters of a list endpoint, every style; default in brackets)
=============================================================================
    mock_count=N       number of tickets (0..1000000) [137; --count]
    mock_seed=S        seed [mock; --seed]
    mock_delay=SECONDS sleep before answering, every page [0; --fault-delay]
    mock_key=K         the counter the per-request knobs use ["default"]: each
                       list request with key K gets the next number n (1, 2,
                       ...), whatever it is answered
    mock_ratelimit=N   requests n = F..F+N-1 of the key are rate limited [0]
    mock_ratelimit_from=F                                             [1]
    mock_retry_after=S the wait, in seconds (0..86400)                [1]
    mock_ratelimit_form=seconds  429 + Retry-After: S
                       date      429 + Retry-After: HTTP date S seconds ahead
                       exhausted 403 + x-ratelimit-remaining: 0 +
                                 x-ratelimit-reset: now+S (GitHub's primary)
                       secondary 403 + Retry-After: S (GitHub's secondary)
                       [exhausted for github, seconds for the others]
    mock_ratelimit_status=NNN  the status of a limited answer instead
    mock_fail_page=P   page P (P = offset // page size + 1) fails, every time
    mock_fail=500|NNN|invalid|truncated  how: that status, a 200 whose body
                       is not JSON, or a body cut short (Content-Length
                       larger, connection closed) [500]
    mock_loop=P        page P's next link (token, cursor) points back to page
                       P-1 (to itself when P=1): the exact URL of P-1's own
                       link, so the crawl visits a URL twice (P >= 3 for an
                       exact repeat: page 1's link may differ from the URL
                       a crawl starts with)
    mock_foreign=ORIGIN page mock_foreign_page's next link goes to ORIGIN
                       (e.g. http://127.0.0.1:PORT) with the same path/query
    mock_foreign_page=P                                                [1]
    mock_shift=K       from request K+1 of the key on, a new ticket stands in
                       front of the list: every later page starts one item
                       earlier, so the ticket at a page boundary comes twice,
                       and every total grows by one
    mock_total_drift=K from request K+1 of the key on, the reported totals
                       (total_count, X-Total, count, X-Total-Count) are 7
                       higher than the items; the items stay the same
    mock_endless=1     the list never ends: 10^9 tickets, every page full
                       with a next link / token / has_more (new tickets past
                       count are unfiltered)
    Redmine has no next link (the client computes offsets): there mock_loop
    and mock_foreign do nothing; Jira's token is no URL: mock_foreign does
    nothing there.
    A bad knob value answers 400 {"error": ..., "status": 400}.

Ground truth: GET /_all?style=NAME&<the list endpoint's query>
    200, a JSON list of every item the list endpoint would serve for the same
    parameters (filters, sort, Jira's fields, mock_count, mock_seed), in the
    vendor's item shape and order, without paging; pull requests included for
    github; the list as before any mock_shift. No auth, rate limits or
    failures. style defaults to the server's --style; path=PATH names the
    list endpoint the crawl used when it matters (GitHub's OWNER/REPO and
    GitLab's project ID appear in the items; default: the path printed at
    start). style=default takes count and seed like /tickets (give a seed:
    else the data is random).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import calendar
import email.utils
import hashlib
import json
import math
import random
import re
import signal
import socketserver
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlencode, urlsplit

CATEGORIES = ("customer_service", "technical", "billing")
STATUSES = ("open", "closed")
BODY_KINDS = ("invalid", "wrong-shape", "list", "bad-ticket", "truncated")
MAX_COUNT = 10_000
MAX_DELAY = 60.0
JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"

STYLE_MAX_COUNT = 1_000_000
STYLE_COUNT = 137
STYLE_SEED = "mock"
ENDLESS_TOTAL = 10**9
DAY = 86_400
SPAN = 90 * DAY  # tickets were created over the 90 days before the server started
DRIFT = 7  # how far mock_total_drift moves the totals
FAIL_KINDS = ("invalid", "truncated")
RATE_FORMS = ("seconds", "date", "exhausted", "secondary")

T = TypeVar("T")
BadValue = argparse.ArgumentTypeError


def parse_int(text: str, low: int, high: int, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise BadValue(f"{name} must be an integer {low}..{high}, got {text!r}")
    return value


def parse_count(text: str) -> int:
    return parse_int(text, 0, MAX_COUNT, "count")


def parse_style_count(text: str) -> int:
    return parse_int(text, 0, STYLE_MAX_COUNT, "count")


def parse_status(text: str) -> int:
    return parse_int(text, 200, 599, "status")


def parse_fail_first(text: str) -> int:
    return parse_int(text, 0, 1_000_000, "fail_first")


def parse_delay(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value) or value < 0:
        raise BadValue(f"delay must be a number of seconds >= 0, got {text!r}")
    return min(value, MAX_DELAY)


def parse_body(text: str) -> str:
    if text not in BODY_KINDS:
        raise BadValue(f"body must be one of {', '.join(BODY_KINDS)}, got {text!r}")
    return text


def int_parser(name: str, low: int, high: int) -> Callable[[str], int]:
    return lambda text: parse_int(text, low, high, name)


def choice_parser(name: str, choices: Sequence[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise BadValue(f"{name} must be one of {', '.join(choices)}, got {text!r}")
        return text

    return parse


def parse_fail(text: str) -> str:
    if text in FAIL_KINDS or re.fullmatch(r"[1-5]\d\d", text):
        return text
    raise BadValue(f"mock_fail must be an HTTP status or one of {', '.join(FAIL_KINDS)}")


def parse_origin(text: str) -> str:
    if not re.fullmatch(r"https?://[^/?#\s]+", text):
        raise BadValue(f"mock_foreign must be an origin such as http://127.0.0.1:9, got {text!r}")
    return text


@dataclass(frozen=True)
class Options:
    """Per-request behaviour: command-line defaults, overridden by the query."""

    count: int | None = None
    seed: str | None = None
    delay: float = 0.0
    status: int | None = None
    body: str | None = None
    fail_first: int = 0
    key: str = "default"


QUERY_PARSERS: dict[str, Callable[[str], Any]] = {
    "count": parse_count,
    "seed": str,
    "delay": parse_delay,
    "status": parse_status,
    "body": parse_body,
    "fail_first": parse_fail_first,
    "key": str,
}


@dataclass(frozen=True)
class Knobs:
    """The mock_* query parameters of a list request (documented in the docstring)."""

    count: int | None = None
    seed: str | None = None
    delay: float = 0.0
    key: str = "default"
    ratelimit: int = 0
    ratelimit_from: int = 1
    retry_after: int = 1
    ratelimit_form: str | None = None
    ratelimit_status: int | None = None
    fail_page: int = 0
    fail: str = "500"
    loop: int = 0
    foreign: str | None = None
    foreign_page: int = 1
    shift: int = 0
    total_drift: int = 0
    endless: bool = False


KNOB_PARSERS: dict[str, Callable[[str], Any]] = {
    "count": parse_style_count,
    "seed": str,
    "delay": parse_delay,
    "key": str,
    "ratelimit": int_parser("mock_ratelimit", 0, 1_000_000),
    "ratelimit_from": int_parser("mock_ratelimit_from", 1, 1_000_000),
    "retry_after": int_parser("mock_retry_after", 0, DAY),
    "ratelimit_form": choice_parser("mock_ratelimit_form", RATE_FORMS),
    "ratelimit_status": int_parser("mock_ratelimit_status", 400, 599),
    "fail_page": int_parser("mock_fail_page", 1, 1_000_000_000),
    "fail": parse_fail,
    "loop": int_parser("mock_loop", 1, 1_000_000_000),
    "foreign": parse_origin,
    "foreign_page": int_parser("mock_foreign_page", 1, 1_000_000_000),
    "shift": int_parser("mock_shift", 0, 1_000_000),
    "total_drift": int_parser("mock_total_drift", 0, 1_000_000),
    "endless": lambda text: bool(int_parser("mock_endless", 0, 1)(text)),
}


def parse_knobs(pairs: list[tuple[str, str]], defaults: Knobs) -> Knobs:
    given = {}
    for name, value in pairs:
        if name.startswith("mock_") and name[5:] in KNOB_PARSERS:
            given[name[5:]] = KNOB_PARSERS[name[5:]](value)
    return replace(defaults, **given)


def make_tickets(rng: random.Random, count: int | None) -> list[dict[str, Any]]:
    n = rng.randint(10, 14) if count is None else count
    return [
        {"id": i, "category": rng.choice(CATEGORIES), "status": rng.choice(STATUSES)}
        for i in range(1, n + 1)
    ]


# -- deterministic vendor data ----------------------------------------------------

MASK64 = (1 << 64) - 1


def mix64(value: int) -> int:
    """splitmix64's finalizer: 64 well-mixed bits from any integer."""
    value = (value + 0x9E3779B97F4A7C15) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


@dataclass(frozen=True)
class Ticket:
    """One vendor-neutral ticket: its number and 64 random bits."""

    n: int
    bits: int
    created: int
    updated: int

    def pick(self, choices: Sequence[T], slot: int) -> T:
        """A choice made with byte `slot` (0..7) of the ticket's bits."""
        return choices[((self.bits >> (8 * slot)) & 0xFF) % len(choices)]

    def number(self, slot: int, high: int) -> int:
        return ((self.bits >> (8 * slot)) & 0xFFFF) % high


@dataclass(frozen=True)
class Data:
    """The tickets a request sees: ticket n is a pure function of (seed, count, t0, n)."""

    seed: str
    count: int
    t0: int  # the server's start, in whole minutes: "now" for the data

    def bits(self, n: int) -> int:
        return mix64(seed_number(self.seed) ^ mix64(n))

    def pick(self, n: int, choices: Sequence[T], slot: int) -> T:
        """Ticket n's choice (as Ticket.pick), without building the ticket."""
        return choices[((self.bits(n) >> (8 * slot)) & 0xFF) % len(choices)]

    def ticket(self, n: int) -> Ticket:
        bits = self.bits(n)
        if n <= self.count:
            created = self.t0 - SPAN + (n * SPAN) // (self.count + 1)
            updated = created + mix64(bits) % (self.t0 - created + 1)
        else:  # made during the crawl (mock_shift, mock_endless)
            created = updated = self.t0 + (n - self.count)
        return Ticket(n, bits, created, updated)


_SEEDS: dict[str, int] = {}


def seed_number(seed: str) -> int:
    if seed not in _SEEDS:
        _SEEDS[seed] = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    return _SEEDS[seed]


def iso(ts: int, fraction: str = "") -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + fraction + "Z"


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def ruby_to_i(text: str | None) -> int:
    """Ruby's String#to_i: the leading integer, 0 when there is none."""
    match = re.match(r"\s*([+-]?\d+)", text or "")
    return int(match.group(1)) if match else 0


def strict_int(text: str | None) -> int | None:
    """An integer parameter as a typed API reads it: None when absent, ValueError if bad."""
    if text is None or text == "":
        return None
    if not re.fullmatch(r"[+-]?\d+", text.strip()):
        raise ValueError(text)
    return int(text)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(text: str) -> str | None:
    try:
        return base64.b64decode(text.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


class Seq:
    """The numbers a crawl sees: an optional new ticket in front, the selection, an endless tail."""

    def __init__(self, front: list[int], base: list[int], tail_from: int | None) -> None:
        self.front, self.base, self.tail_from = front, base, tail_from
        self.head = len(front) + len(base)

    def __len__(self) -> int:
        return ENDLESS_TOTAL if self.tail_from is not None else self.head

    def slice(self, start: int, stop: int) -> list[int]:
        stop = min(stop, len(self))
        skip = len(self.front)
        head = self.front[start:stop] + self.base[max(0, start - skip) : max(0, stop - skip)]
        if self.tail_from is None or stop <= self.head:
            return head
        first = max(start, self.head)
        return head + [self.tail_from + i - self.head for i in range(first, stop)]


# -- requests and answers ---------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = JSON_TYPE
    length: int | None = None  # a Content-Length other than len(body): truncated
    close: bool = False


def json_reply(
    status: int,
    payload: Any,
    headers: list[tuple[str, str]] | None = None,
    indent: int | None = None,
) -> Reply:
    return Reply(status, json.dumps(payload, indent=indent).encode("utf-8"), headers or [])


def text_reply(status: int, text: str, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(status, text.encode("utf-8"), headers or [], TEXT_TYPE)


def link_header(links: list[tuple[str, str]]) -> str:
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links)


@dataclass
class Window:
    """The slice of the list one page asks for."""

    start: int
    size: int
    mode: str = ""

    @property
    def page(self) -> int:
        return self.start // self.size + 1 if self.size else 1

    @property
    def end(self) -> int:
        return self.start + self.size


@dataclass
class Ctx:
    """One list request, as a style sees it."""

    server: MockServer
    headers: Any  # the request's http.client.HTTPMessage
    path: str
    match: re.Match[str]
    pairs: list[tuple[str, str]]
    knobs: Knobs
    data: Data
    origin: str
    number: int = 0  # this request's number among the key's list requests (0: /_all)
    extra: dict[str, Any] = field(default_factory=dict)  # per-request notes of a style

    def get(self, name: str, default: str | None = None) -> str | None:
        values = [value for key, value in self.pairs if key == name]
        return values[-1] if values else default

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def others(self, *names: str) -> list[tuple[str, str]]:
        return [(key, value) for key, value in self.pairs if key not in names]

    def seq(self, base: list[int]) -> Seq:
        shifted = bool(self.knobs.shift) and self.number > self.knobs.shift
        front = [self.data.count + 1] if shifted else []
        tail = self.data.count + 1 + len(front) if self.knobs.endless else None
        return Seq(front, base, tail)

    def total(self, seq: Seq) -> int:
        drifted = bool(self.knobs.total_drift) and self.number > self.knobs.total_drift
        return len(seq) + (DRIFT if drifted else 0)

    def next_start(self, window: Window) -> int:
        """Where page window.page's next link points: the next page, or back (mock_loop)."""
        if self.knobs.loop == window.page:
            return max(0, window.start - window.size)
        return window.start + window.size

    def origin_for(self, page: int) -> str:
        """The origin of page `page`'s next link: this server's, or mock_foreign."""
        if self.knobs.foreign and self.knobs.foreign_page == page:
            return self.knobs.foreign
        return self.origin

    def url(self, path: str, params: list[tuple[str, str]], page: int = 0) -> str:
        query = urlencode(params, quote_via=quote, safe="[]")
        return f"{self.origin_for(page) if page else self.origin}{path}?{query}"

    def basic(self) -> tuple[str, str] | None:
        """The (user, password) of an Authorization: Basic header."""
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        decoded = unb64(value.strip())
        if decoded is None or ":" not in decoded:
            return None
        user, _, password = decoded.partition(":")
        return user, password

    def bearer(self, *schemes: str) -> str | None:
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        return value.strip() if scheme.lower() in schemes else None


def failure(kind: str, items_key: str | None) -> Reply:
    """The answer of a page that mock_fail_page breaks."""
    if kind == "invalid":
        return Reply(200, b'{"' + (items_key or "items").encode() + b'": [this is not JSON')
    if kind == "truncated":
        body = json.dumps({items_key or "items": [{"id": i} for i in range(50)]}).encode()
        return Reply(200, body[: len(body) // 2], length=len(body), close=True)
    status = int(kind)
    return json_reply(status, {"error": f"injected failure {status}", "status": status})


class Refusal(Exception):
    """A request the vendor would refuse: carries the vendor's answer."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def sort_numbers(
    numbers: list[int], data: Data, criteria: list[tuple[Callable[[Ticket], Any], bool]]
) -> list[int]:
    """Sort ticket numbers by (key, descending) criteria, the first the most significant."""
    if len(criteria) == 1 and criteria[0][0] in (by_number, by_created):
        # created grows with n (SPAN > STYLE_MAX_COUNT seconds): no tickets to build
        return sorted(numbers, reverse=criteria[0][1])
    tickets = [data.ticket(n) for n in numbers]
    for key, descending in reversed(criteria):
        tickets.sort(key=key, reverse=descending)
    return [t.n for t in tickets]


def by_number(t: Ticket) -> int:
    return t.n


def by_created(t: Ticket) -> tuple[int, int]:
    return (t.created, t.n)


def by_updated(t: Ticket) -> tuple[int, int]:
    return (t.updated, t.n)


class Style:
    """One vendor's list endpoint. Subclasses fill in the vendor's rules."""

    name = ""
    path: re.Pattern[str] = re.compile("")
    example = ""  # the list endpoint's path, printed at start
    items_key: str | None = None  # where the items are in a page (None: a bare list)
    secret_params: tuple[str, ...] = ()  # query parameters that carry a token
    default_form = "seconds"  # the rate-limit form when mock_ratelimit_form is not given

    # -- data
    def select_key(self, ctx: Ctx) -> tuple[Any, ...]:
        """The parameters the selection (filter and order) depends on."""
        return ()

    def select(self, ctx: Ctx) -> list[int]:
        """The ticket numbers the list serves, filtered and in order (raises Refusal)."""
        return list(range(1, ctx.data.count + 1))

    def render(self, ctx: Ctx, t: Ticket) -> dict[str, Any]:
        raise NotImplementedError

    def items(self, ctx: Ctx, numbers: list[int]) -> list[dict[str, Any]]:
        return [self.render(ctx, ctx.data.ticket(n)) for n in numbers]

    # -- paging
    def window(self, ctx: Ctx) -> Window:
        raise NotImplementedError

    def page(self, ctx: Ctx, seq: Seq, window: Window) -> Reply:
        raise NotImplementedError

    def serve(self, ctx: Ctx) -> Reply:
        try:
            window = self.window(ctx)
            if ctx.knobs.fail_page == window.page:
                return failure(ctx.knobs.fail, self.items_key)
            base = ctx.server.selection(self, ctx)
        except Refusal as refusal:
            return refusal.reply
        reply = self.page(ctx, ctx.seq(base), window)
        reply.headers += self.rate_headers(ctx)
        return reply

    def all(self, ctx: Ctx) -> Reply:
        try:
            base = ctx.server.selection(self, ctx)
        except Refusal as refusal:
            return refusal.reply
        return json_reply(200, self.items(ctx, base))

    # -- auth and limits
    def authorized(self, ctx: Ctx, token: str) -> bool:
        return ctx.bearer("bearer") == token

    def unauthorized(self, ctx: Ctx) -> Reply:
        return json_reply(401, {"error": "unauthorized", "status": 401})

    def rate_headers(self, ctx: Ctx) -> list[tuple[str, str]]:
        return []

    def limited(self, ctx: Ctx) -> Reply:
        knobs = ctx.knobs
        form = knobs.ratelimit_form or self.default_form
        wait = knobs.retry_after
        reset = math.ceil(time.time() + wait)
        if form == "exhausted":
            status, headers = 403, self.exhausted_headers(ctx, reset)
        elif form == "secondary":
            status, headers = 403, [("Retry-After", str(wait))]
        elif form == "date":
            status, headers = 429, [("Retry-After", http_date(reset))]
        else:
            status, headers = 429, [("Retry-After", str(wait))]
        return self.limited_reply(ctx, knobs.ratelimit_status or status, headers, form, reset)

    def exhausted_headers(self, ctx: Ctx, reset: int) -> list[tuple[str, str]]:
        return github_rate_headers(0, 5000, reset)

    def limited_reply(
        self, ctx: Ctx, status: int, headers: list[tuple[str, str]], form: str, reset: int
    ) -> Reply:
        return json_reply(status, {"error": "rate limit exceeded", "status": status}, headers)


def github_rate_headers(remaining: int, used: int, reset: int) -> list[tuple[str, str]]:
    return [
        ("x-ratelimit-limit", "5000"),
        ("x-ratelimit-remaining", str(remaining)),
        ("x-ratelimit-reset", str(reset)),
        ("x-ratelimit-used", str(used)),
        ("x-ratelimit-resource", "core"),
    ]


def quota(limit: int, used: int) -> int:
    """What a rate-limit header says remains after `used` requests: limit-1 down to 1, again
    and again (only the knobs answer as exhausted, so a long crawl never sees 0 on a 200)."""
    return limit - 1 - (max(used, 1) - 1) % (limit - 1)


def page_size(text: str | None, default: int, high: int) -> int:
    """A per_page parameter read leniently: bad or < 1 -> default, above high -> high."""
    try:
        value = strict_int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        return default
    return min(value, high)


def page_number(text: str | None) -> int:
    try:
        value = strict_int(text)
    except ValueError:
        value = None
    return value if value is not None and value >= 1 else 1


# -- Redmine ----------------------------------------------------------------------

REDMINE_STATUSES = (
    (1, "New", False),
    (2, "In Progress", False),
    (3, "Resolved", False),
    (4, "Feedback", False),
    (5, "Closed", True),
    (6, "Rejected", True),
)
REDMINE_TRACKERS = ((1, "Bug"), (2, "Feature"), (3, "Support"))
REDMINE_PRIORITIES = ((1, "Low"), (2, "Normal"), (3, "High"), (4, "Urgent"), (5, "Immediate"))
PEOPLE = ((3, "Ann Agent"), (4, "Bob Agent"), (5, "Cat Customer"), (6, "Dan Customer"))


class Redmine(Style):
    name = "redmine"
    path = re.compile(r"/issues\.json|/projects/[^/]+/issues\.json")
    example = "/issues.json"
    items_key = "issues"
    secret_params = ("key",)

    def render(self, ctx: Ctx, t: Ticket) -> dict[str, Any]:
        status_id, status, closed = t.pick(REDMINE_STATUSES, 0)
        category = t.pick((1, 2, 3, None), 1)
        tracker_id, tracker = t.pick(REDMINE_TRACKERS, 2)
        priority_id, priority = t.pick(REDMINE_PRIORITIES, 3)
        assignee = t.pick((None, *PEOPLE[:2]), 4)
        author_id, author = t.pick(PEOPLE, 5)
        issue: dict[str, Any] = {
            "id": t.n,
            "project": {"id": 1, "name": "Helpdesk"},
            "tracker": {"id": tracker_id, "name": tracker},
            "status": {"id": status_id, "name": status, "is_closed": closed},
            "priority": {"id": priority_id, "name": priority},
            "author": {"id": author_id, "name": author},
        }
        if assignee:
            issue["assigned_to"] = {"id": assignee[0], "name": assignee[1]}
        if category:
            issue["category"] = {"id": category, "name": CATEGORIES[category - 1]}
        issue.update(
            subject=f"Ticket {t.n}",
            description=f"Description of ticket {t.n}",
            start_date=time.strftime("%Y-%m-%d", time.gmtime(t.created)),
            due_date=None,
            done_ratio=100 if closed else t.pick((0, 10, 50), 6),
            is_private=False,
            estimated_hours=None,
            total_estimated_hours=None,
            spent_hours=0.0,
            total_spent_hours=0.0,
            created_on=iso(t.created),
            updated_on=iso(t.updated),
            closed_on=iso(t.updated) if closed else None,
        )
        return issue

    def select_key(self, ctx: Ctx) -> tuple[Any, ...]:
        return (ctx.get("status_id"), ctx.get("sort"))

    def select(self, ctx: Ctx) -> list[int]:
        keep = self.status_filter(ctx.get("status_id"))
        numbers = [
            n for n in range(1, ctx.data.count + 1) if keep(ctx.data.pick(n, REDMINE_STATUSES, 0))
        ]
        return sort_numbers(numbers, ctx.data, self.criteria(ctx.get("sort")))

    @staticmethod
    def status_filter(spec: str | None) -> Callable[[tuple[int, str, bool]], bool]:
        # Query#add_short_filter: the longest operator the value starts with, else "=".
        if spec is None or spec.startswith("o"):
            return lambda status: not status[2]
        if spec.startswith("c"):
            return lambda status: status[2]
        if spec.startswith("*"):
            return lambda status: True
        negate = spec.startswith("!")
        ids = set(spec.lstrip("!=").split("|"))
        return lambda status: (str(status[0]) in ids) != negate

    SORTABLE: ClassVar[dict[str, Callable[[Ticket], Any]]] = {
        "id": by_number,
        "created_on": by_created,
        "updated_on": by_updated,
        "status": lambda t: t.pick(REDMINE_STATUSES, 0)[0],
        "tracker": lambda t: t.pick(REDMINE_TRACKERS, 2)[0],
        "priority": lambda t: t.pick(REDMINE_PRIORITIES, 3)[0],
    }

    def criteria(self, spec: str | None) -> list[tuple[Callable[[Ticket], Any], bool]]:
        # Redmine::SortCriteria: "col[:desc],..." (asc unless desc), unique, at most 3;
        # IssueQuery#issues appends issues.id DESC unless id is sorted on already.
        pairs: list[tuple[str, bool]] = []
        for part in (spec or "").split(","):
            column, _, order = part.partition(":")
            if column and column not in [c for c, _ in pairs]:
                pairs.append((column, order == "desc"))
        pairs = pairs[:3] or [("id", True)]
        criteria = [(self.SORTABLE[c], desc) for c, desc in pairs if c in self.SORTABLE]
        if "id" not in [c for c, _ in pairs]:
            criteria.append((by_number, True))
        return criteria

    def window(self, ctx: Ctx) -> Window:
        # ApplicationController#api_offset_and_limit
        offset = None
        if ctx.get("offset"):
            offset = max(0, ruby_to_i(ctx.get("offset")))
        limit = ruby_to_i(ctx.get("limit"))
        limit = 25 if limit < 1 else min(limit, 100)
        if offset is None and ctx.get("page"):
            offset = max(0, (ruby_to_i(ctx.get("page")) - 1) * limit)
        return Window(offset or 0, limit)

    def page(self, ctx: Ctx, seq: Seq, window: Window) -> Reply:
        body: dict[str, Any] = {"issues": self.items(ctx, seq.slice(window.start, window.end))}
        if not (ctx.get("nometa") or ctx.headers.get("X-Redmine-Nometa")):
            body.update(total_count=ctx.total(seq), offset=window.start, limit=window.size)
        return json_reply(200, body)

    def api_key(self, ctx: Ctx) -> str | None:
        return ctx.get("key") or ctx.headers.get("X-Redmine-API-Key") or None

    def authorized(self, ctx: Ctx, token: str) -> bool:
        key = self.api_key(ctx)
        if key is not None:
            return key == token
        basic = ctx.basic()
        return basic is not None and basic[0] == token

    def unauthorized(self, ctx: Ctx) -> Reply:
        if self.api_key(ctx):
            return Reply(401, content_type=TEXT_TYPE)
        return Reply(401, headers=[("WWW-Authenticate", 'Basic realm="Redmine API"')])


# -- GitHub -----------------------------------------------------------------------

GITHUB_REPO = "acme/helpdesk"  # the repository of /repositories/ID paths never seen by name
GITHUB_REPO_ID = 1300192


def github_repo_id(repo: str) -> int:
    """The numeric ID GitHub's links use for a repository (the same name, the same ID)."""
    if repo == GITHUB_REPO:
        return GITHUB_REPO_ID
    return 2_000_000 + int.from_bytes(hashlib.sha256(repo.encode()).digest()[:3], "big")


def github_user(ctx: Ctx, person: tuple[int, str]) -> dict[str, Any]:
    login = person[1].split()[0].lower()
    return {
        "login": login,
        "id": person[0],
        "node_id": f"MDQ6VXNlcj{person[0]}",
        "url": f"{ctx.origin}/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": "User",
        "site_admin": False,
    }


class GitHub(Style):
    name = "github"
    path = re.compile(
        r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/issues|/repositories/(?P<id>\d+)/issues"
    )
    example = "/repos/acme/helpdesk/issues"
    default_form = "exhausted"
    COLORS = ("d73a4a", "0075ca", "a2eeef")

    @staticmethod
    def repo(ctx: Ctx) -> str:
        """OWNER/REPO of the request: named in the path, or known by its /repositories/ID."""
        if "repo" not in ctx.extra:
            if ctx.match["owner"]:
                repo = "{owner}/{repo}".format(**ctx.match.groupdict())
                ctx.server.repositories[github_repo_id(repo)] = repo
            else:
                repo_id = int(ctx.match["id"])
                repo = ctx.server.repositories.get(repo_id, GITHUB_REPO)
            ctx.extra["repo"] = repo
        return str(ctx.extra["repo"])

    def render(self, ctx: Ctx, t: Ticket) -> dict[str, Any]:
        repo = self.repo(ctx)
        api = f"{ctx.origin}/repos/{repo}/issues/{t.n}"
        closed = t.pick(STATUSES, 0) == "closed"
        pull = t.number(2, 5) == 0
        label = t.pick((0, 1, 2, None), 1)
        assignee = t.pick((None, *PEOPLE[:2]), 4)
        labels = []
        if label is not None:
            name = CATEGORIES[label]
            labels.append(
                {
                    "id": 208045946 + label,
                    "node_id": f"MDU6TGFiZWwyMDgwNDU5N{label}",
                    "url": f"{ctx.origin}/repos/{repo}/labels/{name}",
                    "name": name,
                    "color": self.COLORS[label],
                    "default": False,
                    "description": f"{name} requests",
                }
            )
        issue: dict[str, Any] = {
            "url": api,
            "repository_url": f"{ctx.origin}/repos/{repo}",
            "labels_url": api + "/labels{/name}",
            "comments_url": api + "/comments",
            "events_url": api + "/events",
            "html_url": f"https://github.com/{repo}/{'pull' if pull else 'issues'}/{t.n}",
            "id": 1_000_000_000 + t.n,
            "node_id": "I_kwDOA" + b64(str(t.n)).rstrip("="),
            "number": t.n,
            "title": f"Ticket {t.n}",
            "user": github_user(ctx, t.pick(PEOPLE, 5)),
            "labels": labels,
            "state": "closed" if closed else "open",
            "locked": False,
            "assignee": github_user(ctx, assignee) if assignee else None,
            "assignees": [github_user(ctx, assignee)] if assignee else [],
            "milestone": None,
            "comments": t.number(6, 20),
            "created_at": iso(t.created),
            "updated_at": iso(t.updated),
            "closed_at": iso(t.updated) if closed else None,
            "author_association": "CONTRIBUTOR",
            "active_lock_reason": None,
            "body": f"Description of ticket {t.n}",
            "state_reason": t.pick(("completed", "not_planned"), 7) if closed else None,
        }
        if pull:
            issue["draft"] = False
            issue["pull_request"] = {
                "url": f"{ctx.origin}/repos/{repo}/pulls/{t.n}",
                "html_url": f"https://github.com/{repo}/pull/{t.n}",
                "diff_url": f"https://github.com/{repo}/pull/{t.n}.diff",
                "patch_url": f"https://github.com/{repo}/pull/{t.n}.patch",
                "merged_at": iso(t.updated) if closed else None,
            }
        return issue

    def select_key(self, ctx: Ctx) -> tuple[Any, ...]:
        return (ctx.get("state"), ctx.get("sort"), ctx.get("direction"))

    def invalid(self, field_name: str, value: str) -> Refusal:
        error = {"value": value, "resource": "Issue", "field": field_name, "code": "invalid"}
        return Refusal(
            json_reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [error],
                    "documentation_url": "https://docs.github.com/rest/issues/issues",
                    "status": "422",
                },
            )
        )

    def select(self, ctx: Ctx) -> list[int]:
        state = ctx.get("state", "open") or "open"
        sort = ctx.get("sort", "created") or "created"
        direction = ctx.get("direction", "desc") or "desc"
        for name, value, allowed in (
            ("state", state, ("open", "closed", "all")),
            ("sort", sort, ("created", "updated", "comments")),
            ("direction", direction, ("asc", "desc")),
        ):
            if value not in allowed:
                raise self.invalid(name, value)
        wanted = {"open": ("open",), "closed": ("closed",), "all": STATUSES}[state]
        data = ctx.data
        numbers = [n for n in range(1, data.count + 1) if data.pick(n, STATUSES, 0) in wanted]
        keys = {"created": by_created, "updated": by_updated, "comments": lambda t: t.number(6, 20)}
        return sort_numbers(numbers, data, [(keys[sort], direction == "desc")])

    def window(self, ctx: Ctx) -> Window:
        size = page_size(ctx.get("per_page"), 30, 100)
        return Window((page_number(ctx.get("page")) - 1) * size, size)

    def page(self, ctx: Ctx, seq: Seq, window: Window) -> Reply:
        numbers = seq.slice(window.start, window.end)
        size, page = window.size, window.page
        last = max(1, -(-len(seq) // size))
        others = ctx.others("page")

        def href(number: int, origin_page: int = 0) -> str:
            path = f"/repositories/{github_repo_id(self.repo(ctx))}/issues"
            return ctx.url(path, [*others, ("page", str(number))], origin_page)

        links = []
        if page > 1:
            links.append(("prev", href(page - 1)))
        if window.end < len(seq):
            links.append(("next", href(ctx.next_start(window) // size + 1, page)))
            if ctx.knobs.endless is False:
                links.append(("last", href(last)))
        if page > 1:
            links.append(("first", href(1)))
        headers = [("Link", link_header(links))] if links else []
        return json_reply(200, self.items(ctx, numbers), headers)

    def rate_headers(self, ctx: Ctx) -> list[tuple[str, str]]:
        remaining = quota(5000, ctx.server.requests)
        hours = 1 + int(time.time() - ctx.data.t0) // 3600
        return github_rate_headers(remaining, 5000 - remaining, ctx.data.t0 + 3600 * hours)

    def authorized(self, ctx: Ctx, token: str) -> bool:
        return ctx.bearer("bearer", "token") == token

    def unauthorized(self, ctx: Ctx) -> Reply:
        given = bool(ctx.headers.get("Authorization"))
        message = "Bad credentials" if given else "Requires authentication"
        body = {
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        }
        return json_reply(401, body)

    def limited_reply(
        self, ctx: Ctx, status: int, headers: list[tuple[str, str]], form: str, reset: int
    ) -> Reply:
        if form == "exhausted":
            message = "API rate limit exceeded for user ID 1."
            url = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
        else:
            message = "You have exceeded a secondary rate limit. Please wait a few minutes."
            url = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
            headers = headers + self.rate_headers(ctx)
        body = {"message": message, "documentation_url": url, "status": str(status)}
        return json_reply(status, body, headers)


# -- GitLab -----------------------------------------------------------------------

GITLAB_DEFAULTS = (
    ("order_by", "created_at"),
    ("scope", "all"),
    ("sort", "desc"),
    ("state", "all"),
    ("with_labels_details", "false"),
)
GITLAB_COUNT_LIMIT = 10_000  # Kaminari MAX_COUNT_LIMIT: above it, no totals


def gitlab_user(ctx: Ctx, person: tuple[int, str]) -> dict[str, Any]:
    username = person[1].split()[0].lower()
    return {
        "id": person[0],
        "username": username,
        "name": person[1],
        "state": "active",
        "avatar_url": None,
        "web_url": f"{ctx.origin}/{username}",
    }


class GitLab(Style):
    name = "gitlab"
    path = re.compile(r"/api/v4/projects/(?P<id>[^/]+)/issues")
    example = "/api/v4/projects/42/issues"
    secret_params = ("private_token", "access_token")

    def render(self, ctx: Ctx, t: Ticket) -> dict[str, Any]:
        project = unquote(ctx.match["id"])
        project_id = int(project) if project.isdigit() else 42
        closed = t.pick(STATUSES, 0) == "closed"
        label = t.pick((*CATEGORIES, None), 1)
        assignee = t.pick((None, *PEOPLE[:2]), 4)
        api = f"{ctx.origin}/api/v4/projects/{project_id}"
        return {
            "id": 84_000_000 + t.n,
            "iid": t.n,
            "project_id": project_id,
            "title": f"Ticket {t.n}",
            "description": f"Description of ticket {t.n}",
            "state": "closed" if closed else "opened",
            "created_at": iso(t.created, ".000"),
            "updated_at": iso(t.updated, ".000"),
            "closed_at": iso(t.updated, ".000") if closed else None,
            "closed_by": gitlab_user(ctx, PEOPLE[0]) if closed else None,
            "labels": [label] if label else [],
            "milestone": None,
            "assignees": [gitlab_user(ctx, assignee)] if assignee else [],
            "author": gitlab_user(ctx, t.pick(PEOPLE, 5)),
            "type": "ISSUE",
            "assignee": gitlab_user(ctx, assignee) if assignee else None,
            "user_notes_count": t.number(6, 20),
            "merge_requests_count": 0,
            "upvotes": 0,
            "downvotes": 0,
            "due_date": None,
            "confidential": False,
            "discussion_locked": None,
            "issue_type": "issue",
            "web_url": f"{ctx.origin}/acme/helpdesk/-/issues/{t.n}",
            "time_stats": {
                "time_estimate": 0,
                "total_time_spent": 0,
                "human_time_estimate": None,
                "human_total_time_spent": None,
            },
            "task_completion_status": {"count": 0, "completed_count": 0},
            "references": {
                "short": f"#{t.n}",
                "relative": f"#{t.n}",
                "full": f"acme/helpdesk#{t.n}",
            },
            "severity": "UNKNOWN",
            "_links": {
                "self": f"{api}/issues/{t.n}",
                "notes": f"{api}/issues/{t.n}/notes",
                "award_emoji": f"{api}/issues/{t.n}/award_emoji",
                "project": api,
            },
        }

    def select_key(self, ctx: Ctx) -> tuple[Any, ...]:
        return (ctx.get("state"), ctx.get("order_by"), ctx.get("sort"))

    def select(self, ctx: Ctx) -> list[int]:
        state = ctx.get("state", "all")
        order_by = ctx.get("order_by", "created_at")
        sort = ctx.get("sort", "desc")
        for name, value, allowed in (
            ("state", state, ("opened", "closed", "all")),
            ("order_by", order_by, ("created_at", "updated_at")),
            ("sort", sort, ("asc", "desc")),
        ):
            if value not in allowed:
                raise Refusal(json_reply(400, {"error": f"{name} does not have a valid value"}))
        wanted = {"opened": ("open",), "closed": ("closed",), "all": STATUSES}[str(state)]
        data = ctx.data
        numbers = [n for n in range(1, data.count + 1) if data.pick(n, STATUSES, 0) in wanted]
        key = by_created if order_by == "created_at" else by_updated
        return sort_numbers(numbers, data, [(key, sort == "desc")])

    def window(self, ctx: Ctx) -> Window:
        numbers = {}
        for name in ("page", "per_page"):
            try:
                numbers[name] = strict_int(ctx.get(name))
            except ValueError:
                raise Refusal(json_reply(400, {"error": f"{name} is invalid"})) from None
        page, per_page = numbers["page"], numbers["per_page"]
        size = 20 if per_page is None or per_page < 1 else min(per_page, 100)
        start = (max(page or 1, 1) - 1) * size
        return Window(start, size, str(per_page or 20))  # mode: per_page as asked, for links

    def page(self, ctx: Ctx, seq: Seq, window: Window) -> Reply:
        size, page = window.size, window.page
        total = ctx.total(seq)
        counted = not ctx.knobs.endless and len(seq) <= GITLAB_COUNT_LIMIT
        total_pages = max(1, -(-total // size))
        more = window.end < len(seq)
        next_page = ctx.next_start(window) // size + 1 if more else None
        prev_page = page - 1 if 1 < page <= (total_pages if counted else page) else None
        params = dict(GITLAB_DEFAULTS)
        params["id"] = unquote(ctx.match["id"])
        params.update(ctx.pairs)
        params["per_page"] = window.mode

        def href(number: int, origin_page: int = 0) -> str:
            query = urlencode(sorted({**params, "page": str(number)}.items()))
            return f"{ctx.origin_for(origin_page) if origin_page else ctx.origin}{ctx.path}?{query}"

        links = []
        if prev_page:
            links.append(("prev", href(prev_page)))
        if next_page:
            links.append(("next", href(next_page, page)))
        links.append(("first", href(1)))
        if counted:
            links.append(("last", href(total_pages)))
        headers = [
            ("X-Per-Page", str(size)),
            ("X-Page", str(page)),
            ("X-Next-Page", str(next_page or "")),
            ("X-Prev-Page", str(prev_page or "")),
            ("Link", link_header(links)),
        ]
        if counted:
            headers += [("X-Total", str(total)), ("X-Total-Pages", str(total_pages))]
        return json_reply(200, self.items(ctx, seq.slice(window.start, window.end)), headers)

    def authorized(self, ctx: Ctx, token: str) -> bool:
        given = (
            ctx.headers.get("PRIVATE-TOKEN")
            or ctx.get("private_token")
            or ctx.get("access_token")
            or ctx.bearer("bearer")
        )
        return given == token

    def unauthorized(self, ctx: Ctx) -> Reply:
        return json_reply(401, {"message": "401 Unauthorized"})

    def limited_reply(
        self, ctx: Ctx, status: int, headers: list[tuple[str, str]], form: str, reset: int
    ) -> Reply:
        headers = [
            ("RateLimit-Name", "throttle_authenticated_api"),
            ("RateLimit-Limit", "60"),
            ("RateLimit-Observed", "61"),
            ("RateLimit-Remaining", "0"),
            ("RateLimit-Reset", str(reset)),
            ("RateLimit-ResetTime", http_date(reset)),
            *headers,
        ]
        return text_reply(status, "Retry later\n", headers)


# -- Zendesk ----------------------------------------------------------------------

ZENDESK_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
ZENDESK_TYPES = ("problem", "incident", "question", "task", None)
ZENDESK_OFFSET_LIMIT = 10_000  # offset paging stops after the first 10,000 records


def pagination_error(description: str) -> Refusal:
    return Refusal(
        json_reply(400, {"error": "InvalidPaginationParameter", "description": description})
    )


class Zendesk(Style):
    name = "zendesk"
    path = re.compile(r"/api/v2/tickets(?:\.json)?")
    example = "/api/v2/tickets.json"
    items_key = "tickets"

    def render(self, ctx: Ctx, t: Ticket) -> dict[str, Any]:
        kind = t.pick(ZENDESK_TYPES, 1)
        requester = t.pick(PEOPLE[2:], 5)[0]
        assignee = t.pick((None, *PEOPLE[:2]), 4)
        return {
            "url": f"{ctx.origin}/api/v2/tickets/{t.n}.json",
            "id": t.n,
            "external_id": None,
            "via": {"channel": "email", "source": {"from": {}, "to": {}, "rel": None}},
            "created_at": iso(t.created),
            "updated_at": iso(t.updated),
            "generated_timestamp": t.updated,
            "type": kind,
            "subject": f"Ticket {t.n}",
            "raw_subject": f"Ticket {t.n}",
            "description": f"Description of ticket {t.n}",
            "priority": t.pick(("urgent", "high", "normal", "low", None), 3),
            "status": t.pick(ZENDESK_STATUSES, 0),
            "recipient": "support@example.zendesk.com",
            "requester_id": requester,
            "submitter_id": requester,
            "assignee_id": assignee[0] if assignee else None,
            "organization_id": None,
            "group_id": 360000000001,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": None,
            "problem_id": None,
            "has_incidents": False,
            "is_public": True,
            "due_at": None,
            "tags": [kind] if kind else [],
            "custom_fields": [],
            "satisfaction_rating": None,
            "sharing_agreement_ids": [],
            "custom_status_id": 1 + ZENDESK_STATUSES.index(t.pick(ZENDESK_STATUSES, 0)),
            "fields": [],
            "followup_ids": [],
            "ticket_form_id": 360000000002,
            "brand_id": 360000000003,
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": False,
        }

    def select_key(self, ctx: Ctx) -> tuple[Any, ...]:
        return (ctx.get("sort_by"), ctx.get("sort_order"))

    def select(self, ctx: Ctx) -> list[int]:
        keys: dict[str, Callable[[Ticket], Any]] = {
            "id": by_number,
            "created_at": by_created,
            "updated_at": by_updated,
            "status": lambda t: (ZENDESK_STATUSES.index(t.pick(ZENDESK_STATUSES, 0)), t.n),
        }
        key = keys.get(ctx.get("sort_by") or "id", by_number)
        numbers = list(range(1, ctx.data.count + 1))
        return sort_numbers(numbers, ctx.data, [(key, ctx.get("sort_order") == "desc")])

    @staticmethod
    def cursor(position: int) -> str:
        return b64(json.dumps({"o": position, "v": "aQE="}))

    @staticmethod
    def position(cursor: str) -> int:
        try:
            return int(json.loads(unb64(cursor) or "")["o"])
        except (ValueError, TypeError, KeyError):
            raise pagination_error("page[after] / page[before] is not a valid cursor") from None

    def window(self, ctx: Ctx) -> Window:
        if any(name.startswith("page[") for name, _ in ctx.pairs):
            try:
                size = strict_int(ctx.get("page[size]"))
            except ValueError:
                size = 0
            size = 100 if size is None else size
            if not 1 <= size <= 100:
                raise pagination_error("page[size] must be an integer between 1 and 100")
            after, before = ctx.get("page[after]"), ctx.get("page[before]")
            if after:
                return Window(self.position(after), size, "cursor")
            if before:
                return Window(max(0, self.position(before) - size), size, "cursor")
            return Window(0, size, "cursor")
        size = page_size(ctx.get("per_page"), 100, 100)
        start = (page_number(ctx.get("page")) - 1) * size
        if start + size > ZENDESK_OFFSET_LIMIT:
            raise pagination_error(
                "Offset pagination is limited to the first 10000 records. Use cursor pagination."
            )
        return Window(start, size, "offset")

    def page(self, ctx: Ctx, seq: Seq, window: Window) -> Reply:
        numbers = seq.slice(window.start, window.end)
        body: dict[str, Any] = {"tickets": self.items(ctx, numbers)}
        path = "/api/v2/tickets.json"
        if window.mode == "offset":
            others = ctx.others("page", "per_page")

            def href(number: int, origin_page: int = 0) -> str:
                query = [*others, ("page", str(number)), ("per_page", str(window.size))]
                return ctx.url(path, query, origin_page)

            more = window.end < len(seq)
            next_page = ctx.next_start(window) // window.size + 1
            body["next_page"] = href(next_page, window.page) if more else None
            body["previous_page"] = href(window.page - 1) if window.page > 1 else None
            body["count"] = ctx.total(seq)
            return json_reply(200, body)
        others = ctx.others("page[size]", "page[after]", "page[before]")
        size = ("page[size]", str(window.size))
        if not numbers:
            body["meta"] = {"has_more": False, "after_cursor": None, "before_cursor": None}
            body["links"] = {"prev": None, "next": None}
            return json_reply(200, body)
        full = len(numbers) == window.size
        after = self.cursor(ctx.next_start(window) if full else window.start + len(numbers))
        before = self.cursor(window.start)
        body["meta"] = {
            "has_more": window.start + len(numbers) < len(seq),
            "after_cursor": after,
            "before_cursor": before,
        }
        body["links"] = {
            "prev": ctx.url(path, [*others, size, ("page[before]", before)]),
            "next": ctx.url(path, [*others, size, ("page[after]", after)], window.page),
        }
        return json_reply(200, body)

    def rate_headers(self, ctx: Ctx) -> list[tuple[str, str]]:
        remaining = str(quota(700, ctx.server.requests))
        reset = str(60 - int(time.time()) % 60)
        return [
            ("x-rate-limit", "700"),
            ("x-rate-limit-remaining", remaining),
            ("ratelimit-limit", "700"),
            ("ratelimit-remaining", remaining),
            ("ratelimit-reset", reset),
            ("zendesk-ratelimit-tickets-index", f"total=100; remaining=99; resets={reset}"),
        ]

    def authorized(self, ctx: Ctx, token: str) -> bool:
        basic = ctx.basic()
        if basic is not None:
            user, password = basic
            return user.endswith("/token") and len(user) > len("/token") and password == token
        return ctx.bearer("bearer") == token

    def unauthorized(self, ctx: Ctx) -> Reply:
        return json_reply(401, {"error": "Couldn't authenticate you"})

    def limited_reply(
        self, ctx: Ctx, status: int, headers: list[tuple[str, str]], form: str, reset: int
    ) -> Reply:
        return text_reply(status, "Too Many Requests", headers)


# -- Jira Cloud -------------------------------------------------------------------

JIRA_CATEGORIES = (
    (2, "new", "blue-gray", "To Do"),
    (4, "indeterminate", "yellow", "In Progress"),
    (3, "done", "green", "Done"),
)
JIRA_STATUSES = (
    ("10000", "To Do", 0),
    ("3", "In Progress", 1),
    ("10001", "In Review", 1),
    ("10002", "Done", 2),
)
JIRA_TYPES = (
    ("10004", "Bug", "A problem which impairs or prevents the functions of the product."),
    ("10002", "Task", "A task that needs to be done."),
    ("10001", "Story", "Functionality or a feature expressed as a user goal."),
)
JIRA_FIELDS = (
    "summary",
    "status",
    "issuetype",
    "priority",
    "created",
    "updated",
    "resolution",
    "resolutiondate",
    "project",
    "labels",
    "assignee",
    "reporter",
)
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)


def jira_time(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime(ts))


class Jira(Style):
    name = "jira"
    path = re.compile(r"/rest/api/3/search/jql")
    example = "/rest/api/3/search/jql?jql=project%3DHD"
    items_key = "issues"

    @staticmethod
    def wanted(ctx: Ctx) -> list[str]:
        """The fields asked for: [] for the default (id only)."""
        names = [f.strip() for v in ctx.values("fields") for f in v.split(",") if f.strip()]
        if not names or names == ["id"]:
            return []
        exclude = {name[1:] for name in names if name.startswith("-")}
        everything = "*all" in names or "*navigable" in names or all(n[0] == "-" for n in names)
        chosen = JIRA_FIELDS if everything else tuple(n for n in names if n in JIRA_FIELDS)
        return [name for name in chosen if name not in exclude] or ["key"]

    def render(self, ctx: Ctx, t: Ticket) -> dict[str, Any]:
        issue_id = str(10000 + t.n)
        wanted = ctx.extra.setdefault("fields", self.wanted(ctx))
        if not wanted:
            return {"id": issue_id}
        api = f"{ctx.origin}/rest/api/3"
        status_id, status, category = t.pick(JIRA_STATUSES, 0)
        category_id, category_key, color, category_name = JIRA_CATEGORIES[category]
        type_id, type_name, type_text = t.pick(JIRA_TYPES, 1)
        done = category_key == "done"
        assignee = t.pick((None, *PEOPLE[:2]), 4)
        priority = t.pick((("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low")), 3)

        def person(who: tuple[int, str]) -> dict[str, Any]:
            account = f"5b10ac8d82e05b22cc7d4e{who[0]:02d}"
            return {
                "self": f"{api}/user?accountId={account}",
                "accountId": account,
                "displayName": who[1],
                "active": True,
                "accountType": "atlassian",
            }

        values: dict[str, Any] = {
            "summary": f"Ticket {t.n}",
            "status": {
                "self": f"{api}/status/{status_id}",
                "description": "",
                "iconUrl": f"{ctx.origin}/images/icons/statuses/generic.png",
                "name": status,
                "id": status_id,
                "statusCategory": {
                    "self": f"{api}/statuscategory/{category_id}",
                    "id": category_id,
                    "key": category_key,
                    "colorName": color,
                    "name": category_name,
                },
            },
            "issuetype": {
                "self": f"{api}/issuetype/{type_id}",
                "id": type_id,
                "description": type_text,
                "iconUrl": f"{api}/universal_avatar/view/type/issuetype/avatar/{type_id}",
                "name": type_name,
                "subtask": False,
                "avatarId": int(type_id) + 300,
                "hierarchyLevel": 0,
            },
            "priority": {
                "self": f"{api}/priority/{priority[0]}",
                "iconUrl": f"{ctx.origin}/images/icons/priorities/{priority[1].lower()}.svg",
                "name": priority[1],
                "id": priority[0],
            },
            "created": jira_time(t.created),
            "updated": jira_time(t.updated),
            "resolution": {"self": f"{api}/resolution/10000", "id": "10000", "name": "Done"}
            if done
            else None,
            "resolutiondate": jira_time(t.updated) if done else None,
            "project": {
                "self": f"{api}/project/10000",
                "id": "10000",
                "key": "HD",
                "name": "Helpdesk",
                "projectTypeKey": "software",
                "simplified": False,
            },
            "labels": [],
            "assignee": person(assignee) if assignee else None,
            "reporter": person(t.pick(PEOPLE, 5)),
        }
        return {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,"
            "versionedRepresentations",
            "id": issue_id,
            "self": f"{api}/issue/{issue_id}",
            "key": f"HD-{t.n}",
            "fields": {name: values[name] for name in wanted if name in values},
        }

    def select_key(self, ctx: Ctx) -> tuple[Any, ...]:
        return (ctx.get("jql"),)

    def select(self, ctx: Ctx) -> list[int]:
        jql = (ctx.get("jql") or "").strip()
        if not jql or re.match(r"order\s+by\b", jql, re.I):
            raise Refusal(json_reply(400, {"errorMessages": [UNBOUNDED], "errors": {}}))
        return list(range(ctx.data.count, 0, -1))

    @staticmethod
    def token(position: int) -> str:
        return b64(f"jira:{position}:{mix64(position) % 99991}")

    def window(self, ctx: Ctx) -> Window:
        try:
            asked = strict_int(ctx.get("maxResults"))
        except ValueError:
            message = "The value for 'maxResults' is invalid."
            raise Refusal(json_reply(400, {"errorMessages": [message], "errors": {}})) from None
        high = 100 if self.wanted(ctx) else 5000
        size = 50 if asked is None or asked < 1 else min(asked, high)
        token = ctx.get("nextPageToken")
        if not token:
            return Window(0, size)
        match = re.fullmatch(r"jira:(\d+):(\d+)", unb64(token) or "")
        if not match or int(match.group(2)) != mix64(int(match.group(1))) % 99991:
            message = "The nextPageToken is invalid or has expired."
            raise Refusal(json_reply(400, {"errorMessages": [message], "errors": {}}))
        return Window(int(match.group(1)), size)

    def page(self, ctx: Ctx, seq: Seq, window: Window) -> Reply:
        numbers = seq.slice(window.start, window.end)
        body: dict[str, Any] = {"issues": self.items(ctx, numbers)}
        more = window.start + len(numbers) < len(seq)
        if more:
            body["nextPageToken"] = self.token(ctx.next_start(window))
        body["isLast"] = not more
        return json_reply(200, body)

    def authorized(self, ctx: Ctx, token: str) -> bool:
        basic = ctx.basic()
        return basic is not None and bool(basic[0]) and basic[1] == token

    def unauthorized(self, ctx: Ctx) -> Reply:
        message = "Client must be authenticated to access this resource."
        return json_reply(401, {"errorMessages": [message], "errors": {}})

    def limited_reply(
        self, ctx: Ctx, status: int, headers: list[tuple[str, str]], form: str, reset: int
    ) -> Reply:
        return json_reply(
            status, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, headers
        )


# -- Freshdesk --------------------------------------------------------------------

FRESHDESK_STATUSES = (2, 3, 4, 5)  # Open, Pending, Resolved, Closed
FRESHDESK_TYPES = ("Question", "Incident", "Problem", "Feature Request", None)
FRESHDESK_WINDOW = 30 * DAY  # without updated_since: tickets created in the last 30 days


def freshdesk_invalid(field_name: str, message: str) -> Refusal:
    error = {"field": field_name, "message": message, "code": "invalid_value"}
    return Refusal(json_reply(400, {"description": "Validation failed", "errors": [error]}))


def parse_iso(text: str) -> int | None:
    match = re.fullmatch(
        r"(\d{4}-\d\d-\d\d)(?:T(\d\d:\d\d(?::\d\d)?)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?)?", text
    )
    if not match:
        return None
    day, clock, zone = match.groups()
    clock = clock or "00:00:00"
    clock = clock if clock.count(":") == 2 else clock + ":00"
    try:
        moment = time.strptime(f"{day}T{clock}", "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    offset = 0
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return calendar.timegm(moment) - offset


class Freshdesk(Style):
    name = "freshdesk"
    path = re.compile(r"/api/v2/tickets")
    example = "/api/v2/tickets"

    def render(self, ctx: Ctx, t: Ticket) -> dict[str, Any]:
        kind = t.pick(FRESHDESK_TYPES, 1)
        responder = t.pick((None, *PEOPLE[:2]), 4)
        return {
            "cc_emails": [],
            "fwd_emails": [],
            "reply_cc_emails": [],
            "ticket_cc_emails": [],
            "fr_escalated": False,
            "spam": False,
            "email_config_id": None,
            "group_id": 43000000001,
            "priority": 1 + t.number(3, 4),
            "requester_id": 43000000100 + t.pick(PEOPLE[2:], 5)[0],
            "responder_id": 43000000100 + responder[0] if responder else None,
            "source": t.pick((1, 2, 3, 7), 2),
            "company_id": None,
            "status": t.pick(FRESHDESK_STATUSES, 0),
            "subject": f"Ticket {t.n}",
            "association_type": None,
            "support_email": None,
            "to_emails": None,
            "product_id": None,
            "id": t.n,
            "type": kind,
            "due_by": iso(t.created + 3 * DAY),
            "fr_due_by": iso(t.created + DAY),
            "is_escalated": False,
            "custom_fields": {},
            "created_at": iso(t.created),
            "updated_at": iso(t.updated),
            "associated_tickets_count": None,
            "tags": [],
        }

    def select_key(self, ctx: Ctx) -> tuple[Any, ...]:
        return (ctx.get("updated_since"), ctx.get("order_by"), ctx.get("order_type"))

    def select(self, ctx: Ctx) -> list[int]:
        data = ctx.data
        since_text = ctx.get("updated_since")
        if since_text is not None:
            since = parse_iso(since_text)
            if since is None:
                raise freshdesk_invalid(
                    "updated_since", "It should be in the 'valid date time' format"
                )
            numbers = [n for n in range(1, data.count + 1) if data.ticket(n).updated >= since]
        else:
            oldest = data.t0 - FRESHDESK_WINDOW
            numbers = [n for n in range(1, data.count + 1) if data.ticket(n).created >= oldest]
        keys: dict[str, Callable[[Ticket], Any]] = {
            "created_at": by_created,
            "updated_at": by_updated,
            "due_by": by_created,
            "status": lambda t: (t.pick(FRESHDESK_STATUSES, 0), t.n),
        }
        order_by = ctx.get("order_by", "created_at") or "created_at"
        order_type = ctx.get("order_type", "desc") or "desc"
        if order_by not in keys:
            raise freshdesk_invalid(
                "order_by", f"It should be one of these values: '{','.join(keys)}'"
            )
        if order_type not in ("asc", "desc"):
            raise freshdesk_invalid("order_type", "It should be one of these values: 'asc,desc'")
        return sort_numbers(numbers, data, [(keys[order_by], order_type == "desc")])

    def window(self, ctx: Ctx) -> Window:
        numbers = {}
        for name, default, high in (("page", 1, 300), ("per_page", 30, 100)):
            try:
                value = strict_int(ctx.get(name))
            except ValueError:
                value = 0
            value = default if value is None else value
            if not 1 <= value <= high:
                raise freshdesk_invalid(
                    name, f"It should be a Positive Number less than or equal to {high}"
                )
            numbers[name] = value
        size = numbers["per_page"]
        return Window((numbers["page"] - 1) * size, size)

    def page(self, ctx: Ctx, seq: Seq, window: Window) -> Reply:
        headers = []
        if window.end < len(seq):
            number = ctx.next_start(window) // window.size + 1
            query = [
                *ctx.others("page", "per_page"),
                ("page", str(number)),
                ("per_page", str(window.size)),
            ]
            headers.append(("Link", link_header([("next", ctx.url(ctx.path, query, window.page))])))
        return json_reply(200, self.items(ctx, seq.slice(window.start, window.end)), headers)

    def rate_headers(self, ctx: Ctx) -> list[tuple[str, str]]:
        return [
            ("X-Ratelimit-Total", "700"),
            ("X-Ratelimit-Remaining", str(quota(700, ctx.server.requests))),
            ("X-Ratelimit-Used-CurrentRequest", "1"),
        ]

    def authorized(self, ctx: Ctx, token: str) -> bool:
        basic = ctx.basic()
        return basic is not None and basic[0] == token

    def unauthorized(self, ctx: Ctx) -> Reply:
        body = {
            "code": "invalid_credentials",
            "message": "You have to be logged in to perform this action.",
        }
        return json_reply(401, body)


# -- json-server 0.17 -------------------------------------------------------------

JSON_SERVER_FIELDS = ("id", "category", "status")


def js_parse_int(text: str | None) -> int | None:
    """JavaScript's parseInt: the leading integer, or None for NaN."""
    match = re.match(r"\s*([+-]?\d+)", text or "")
    return int(match.group(1)) if match else None


class JsonServer(Style):
    name = "json-server"
    path = re.compile(r"/tickets")
    example = "/tickets"

    def render(self, ctx: Ctx, t: Ticket) -> dict[str, Any]:
        return {"id": t.n, "category": t.pick(CATEGORIES, 1), "status": t.pick(STATUSES, 0)}

    def select_key(self, ctx: Ctx) -> tuple[Any, ...]:
        names = (*JSON_SERVER_FIELDS, "_sort", "_order")
        return tuple(pair for pair in ctx.pairs if pair[0] in names)

    def select(self, ctx: Ctx) -> list[int]:
        data = ctx.data
        items = [self.render(ctx, data.ticket(n)) for n in range(1, data.count + 1)]
        for name in JSON_SERVER_FIELDS:  # plural.js: FIELD=VALUE, any of the values
            wanted = ctx.values(name)
            if wanted:
                items = [item for item in items if str(item[name]) in wanted]
        sort = ctx.get("_sort")
        if sort:  # lodash orderBy: the first field the most significant
            orders = (ctx.get("_order") or "").lower().split(",")
            names = sort.split(",")
            for i in reversed(range(len(names))):
                name = names[i]
                descending = i < len(orders) and orders[i] == "desc"
                items.sort(
                    key=lambda item: (item.get(name) is None, item.get(name)), reverse=descending
                )
        return [item["id"] for item in items]

    def window(self, ctx: Ctx) -> Window:
        if ctx.get("_page") is not None:
            page = js_parse_int(ctx.get("_page"))
            page = page if page is not None and page >= 1 else 1
            limit = js_parse_int(ctx.get("_limit")) or 10
            return Window((page - 1) * limit, limit, "page")
        start = js_parse_int(ctx.get("_start")) or 0
        if ctx.get("_end"):
            end = js_parse_int(ctx.get("_end")) or 0
            return Window(start, max(0, end - start), "slice")
        if ctx.get("_limit"):
            return Window(start, max(0, js_parse_int(ctx.get("_limit")) or 0), "slice")
        return Window(0, 0, "all")

    def page(self, ctx: Ctx, seq: Seq, window: Window) -> Reply:
        if window.mode == "all":
            return json_reply(200, self.items(ctx, seq.slice(0, min(len(seq), seq.head))), indent=2)
        headers = [("X-Total-Count", str(ctx.total(seq)))]
        numbers = seq.slice(window.start, window.end)
        if window.mode == "slice":
            headers.append(("Access-Control-Expose-Headers", "X-Total-Count"))
            return json_reply(200, self.items(ctx, numbers), headers, indent=2)
        headers.append(("Access-Control-Expose-Headers", "X-Total-Count, Link"))
        page, limit = window.page, window.size
        links = []
        if numbers:  # utils.getPage, then plural.js's links
            full = ctx.origin + ctx.extra["raw_path"]
            whole = len(numbers) == len(seq)

            def href(number: int, origin: str | None = None) -> str:
                url = full.replace(f"page={page}", f"page={number}", 1)
                return (origin or ctx.origin) + url[len(ctx.origin) :]

            if not whole:
                links.append(("first", href(1)))
            if page > 1:
                links.append(("prev", href(page - 1)))
            if window.end < len(seq):
                links.append(
                    ("next", href(ctx.next_start(window) // limit + 1, ctx.origin_for(page)))
                )
            if not whole:
                links.append(("last", href(-(-len(seq) // limit))))
        headers.append(("Link", link_header(links)))
        return json_reply(200, self.items(ctx, numbers), headers, indent=2)

    def authorized(self, ctx: Ctx, token: str) -> bool:
        return True  # json-server has no auth


STYLES: dict[str, Style] = {
    style.name: style
    for style in (Redmine(), GitHub(), GitLab(), Zendesk(), Jira(), Freshdesk(), JsonServer())
}


# -- the server -------------------------------------------------------------------

SELECTION_CACHE = 16  # selections (filtered, sorted number lists) kept per server


class MockServer(ThreadingHTTPServer):
    daemon_threads = True  # a pending delayed request must not block shutdown
    request_queue_size = 128  # listen backlog (default 5) for parallel clients

    def __init__(
        self,
        address: tuple[str, int],
        defaults: Options,
        style: Style | None = None,
        token: str | None = None,
        knobs: Knobs | None = None,
    ) -> None:
        super().__init__(address, Handler)
        self.defaults = defaults
        self.style = style
        self.token = token
        self.knobs = knobs or Knobs()
        self.t0 = int(time.time()) // 60 * 60
        self.fail_counts: dict[str, int] = {}
        self.fail_lock = threading.Lock()
        self.key_counts: dict[str, int] = {}
        self.requests = 0  # list requests served, for the rate-limit headers
        self.selections: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()
        self.selection_lock = threading.Lock()
        self.repositories: dict[int, str] = {}  # GitHub: /repositories/ID -> OWNER/REPO

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn); skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def count_request(self, key: str) -> int:
        """Count one more request for `key`; return its 1-based number."""
        with self.fail_lock:
            self.fail_counts[key] = self.fail_counts.get(key, 0) + 1
            return self.fail_counts[key]

    def count_list_request(self, key: str) -> int:
        """Count one more list request with mock_key `key`; return its 1-based number."""
        with self.fail_lock:
            self.requests += 1
            self.key_counts[key] = self.key_counts.get(key, 0) + 1
            return self.key_counts[key]

    def selection(self, style: Style, ctx: Ctx) -> list[int]:
        """style.select(ctx), remembered for the next pages of the same crawl."""
        key = (style.name, ctx.data, style.select_key(ctx))
        with self.selection_lock:
            if key in self.selections:
                self.selections.move_to_end(key)
                return self.selections[key]
        numbers = style.select(ctx)
        with self.selection_lock:
            self.selections[key] = numbers
            while len(self.selections) > SELECTION_CACHE:
                self.selections.popitem(last=False)
        return numbers

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def redact(path: str, names: Sequence[str]) -> str:
    """The request path with the values of token-carrying parameters replaced by ***."""
    if not names or "?" not in path:
        return path
    head, _, query = path.partition("?")
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        parts.append(f"{name}=***" if equals and unquote(name) in names else part)
    return head + "?" + "&".join(parts)


class Handler(BaseHTTPRequestHandler):
    server: MockServer
    server_version = "mock-tickets/1.0"
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # else each keep-alive answer waits ~40 ms (delayed ACK)

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._handle(self._get)

    def do_OPTIONS(self) -> None:
        self._handle(self._preflight)

    def __getattr__(self, name: str) -> Callable[[], None]:
        # Any other method (do_POST, do_PUT, do_FOO, ...) answers 405.
        if name.startswith("do_"):
            return lambda: self._handle(self._not_allowed)
        raise AttributeError(name)

    # -- plumbing ---------------------------------------------------------

    def _handle(self, action: Callable[[], None]) -> None:
        start = time.monotonic()
        self._status = 0
        note = ""
        try:
            action()
        except ConnectionError:
            note = " (client disconnected)"
            self.close_connection = True
        ms = (time.monotonic() - start) * 1000
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        style = self.server.style
        path = redact(self.path, style.secret_params if style else ())
        line = f"{stamp} {self.command} {path} {self._status} {ms:.1f}ms{note}"
        print(line, file=sys.stderr, flush=True)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _handle logs one line per request, with the duration

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = JSON_TYPE,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        length: int | None = None,
    ) -> None:
        self._status = status
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        pairs = headers.items() if isinstance(headers, dict) else headers or []
        for name, value in pairs:
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)
        self.wfile.flush()

    def _send_reply(self, reply: Reply) -> None:
        self._send(reply.status, reply.body, reply.content_type, reply.headers, reply.length)
        if reply.close:
            self.close_connection = True

    def _send_json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"))

    def _send_error_json(self, status: int, message: str) -> None:
        self._send_json(status, {"error": message, "status": status})

    # -- endpoints --------------------------------------------------------

    def _preflight(self) -> None:
        requested = self.headers.get("Access-Control-Request-Headers", "*")
        self._send(
            204,
            headers={
                "Access-Control-Allow-Methods": "GET, OPTIONS",
                "Access-Control-Allow-Headers": requested,
                "Access-Control-Max-Age": "600",
            },
        )

    def _not_allowed(self) -> None:
        body = json.dumps({"error": "method not allowed", "status": 405}).encode("utf-8")
        self._send(405, body, headers={"Allow": "GET, OPTIONS"})

    def _get(self) -> None:
        url = urlsplit(self.path)
        style = self.server.style
        match = style.path.fullmatch(url.path) if style else None
        try:
            if url.path == "/healthz":
                self._send(200, b"ok", content_type=TEXT_TYPE)
            elif url.path == "/_all":
                self._all(url.query)
            elif style is None and url.path == "/tickets":
                self._default_list(url.query)
            elif style is not None and match:
                self._style_list(style, match, url.path, url.query)
            elif style is JSON_SERVER:
                self._send_json(404, {})
            else:
                self._send_error_json(404, f"no such path: {url.path}")
        except BadValue as exc:
            self._send_error_json(400, str(exc))

    def _ctx(self, style: Style | None, match: Any, path: str, query: str) -> Ctx:
        pairs = parse_qsl(query, keep_blank_values=True)
        knobs = parse_knobs(pairs, self.server.knobs)
        count = STYLE_COUNT if knobs.count is None else knobs.count
        data = Data(STYLE_SEED if knobs.seed is None else knobs.seed, count, self.server.t0)
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        ctx = Ctx(self.server, self.headers, path, match, pairs, knobs, data, f"http://{host}")
        ctx.extra["raw_path"] = self.path
        return ctx

    def _gate(self, style: Style, ctx: Ctx) -> bool:
        """Delay, count, auth and rate limits of a list request: True when it may go on."""
        knobs = ctx.knobs
        if knobs.delay:
            time.sleep(knobs.delay)
        ctx.number = self.server.count_list_request(knobs.key)
        token = self.server.token
        if token is not None and not style.authorized(ctx, token):
            self._send_reply(style.unauthorized(ctx))
            return False
        if knobs.ratelimit_from <= ctx.number < knobs.ratelimit_from + knobs.ratelimit:
            self._send_reply(style.limited(ctx))
            return False
        return True

    def _style_list(self, style: Style, match: re.Match[str], path: str, query: str) -> None:
        ctx = self._ctx(style, match, path, query)
        if self._gate(style, ctx):
            self._send_reply(style.serve(ctx))

    def _default_list(self, query: str) -> None:
        options = self._options(query)
        ctx = self._ctx(None, None, "/tickets", query)
        if self._gate(DEFAULT, ctx):
            self._tickets(options)

    def _all(self, query: str) -> None:
        params = parse_qs(query, keep_blank_values=True)
        name = params.get("style", [None])[-1]
        style = self.server.style if name is None else STYLES.get(name)
        if name not in (None, "default") and style is None:
            self._send_error_json(400, f"style must be default or one of {', '.join(STYLES)}")
        elif style is None:
            options = self._options(query)
            self._send_json(200, make_tickets(random.Random(options.seed), options.count))
        else:
            path = params.get("path", [style.example.partition("?")[0]])[-1]
            match = style.path.fullmatch(path)
            if match is None:
                self._send_error_json(400, f"path must be a list endpoint of {style.name}")
                return
            self._send_reply(style.all(self._ctx(style, match, path, query)))

    def _options(self, query: str) -> Options:
        params = parse_qs(query, keep_blank_values=True)
        given = {
            name: parse(params[name][-1]) for name, parse in QUERY_PARSERS.items() if name in params
        }
        return replace(self.server.defaults, **given)

    def _tickets(self, opt: Options) -> None:
        if opt.delay:
            time.sleep(opt.delay)
        if opt.fail_first:
            number = self.server.count_request(opt.key)
            if number <= opt.fail_first:
                message = f"injected failure {number} of {opt.fail_first} for key {opt.key!r}"
                self._send_error_json(503, message)
                return
        if opt.status is not None:
            self._send_error_json(opt.status, f"injected status {opt.status}")
            return

        rng = random.Random(opt.seed)  # seed None => fresh OS randomness
        tickets = make_tickets(rng, opt.count)
        if opt.body == "invalid":
            self._send(200, b'{"tickets": [this is not JSON')
        elif opt.body == "wrong-shape":
            self._send_json(200, {"data": 1})
        elif opt.body == "list":
            self._send_json(200, tickets)
        elif opt.body == "bad-ticket":
            if tickets:
                del tickets[len(tickets) // 2]["status"]
            self._send_json(200, {"tickets": tickets})
        elif opt.body == "truncated":
            body = json.dumps({"tickets": tickets}).encode("utf-8")
            self._send(200, body[: len(body) // 2], length=len(body))
            self.close_connection = True
        else:
            self._send_json(200, {"tickets": tickets})


DEFAULT = Style()  # the default style's auth (Bearer) and rate limits (429 + Retry-After)
JSON_SERVER = STYLES["json-server"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=3000,
        help="port to bind, 0 = pick a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        help="seed for reproducible tickets (default: random per request; vendor styles: mock)",
    )
    parser.add_argument(
        "--count",
        type=parse_style_count,
        metavar="N",
        help="number of tickets, up to 10000 (default: random 10..14); "
        "vendor styles: up to 1000000 (default: 137)",
    )
    parser.add_argument(
        "--fault-status",
        type=parse_status,
        metavar="NNN",
        help="answer /tickets with this HTTP status (default style)",
    )
    parser.add_argument(
        "--fault-delay",
        type=parse_delay,
        default=0.0,
        metavar="SECONDS",
        help="sleep before answering /tickets or a style's list (capped at 60)",
    )
    parser.add_argument(
        "--fault-body",
        type=parse_body,
        metavar="KIND",
        help=f"broken /tickets body (default style): {', '.join(BODY_KINDS)}",
    )
    parser.add_argument(
        "--style",
        choices=("default", *STYLES),
        default="default",
        help="the API to imitate (default: %(default)s, the mock's own /tickets)",
    )
    parser.add_argument(
        "--token",
        metavar="SECRET",
        help="require the style's auth scheme with this secret (else 401)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    style = STYLES.get(args.style)
    if style is None and args.count is not None and args.count > MAX_COUNT:
        parser.error(f"argument --count: count must be an integer 0..{MAX_COUNT} (default style)")
    defaults = Options(
        count=args.count,
        seed=args.seed,
        delay=args.fault_delay,
        status=args.fault_status,
        body=args.fault_body,
    )
    knobs = Knobs(count=args.count, seed=args.seed, delay=args.fault_delay) if style else Knobs()
    try:
        server = MockServer((args.host, args.port), defaults, style, args.token, knobs)
    except OSError as exc:
        print(
            f"mock API: cannot listen on {args.host}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return 1

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever() to return, so it must not run
        # in this (the main, serving) thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    host, port = server.server_address[:2]
    print(f"mock API listening on http://{host}:{port}/tickets", flush=True)
    if style:
        print(f"mock API style {style.name}: http://{host}:{port}{style.example}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    print("mock API stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
