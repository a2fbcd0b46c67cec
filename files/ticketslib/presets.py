"""--preset NAME: the shapes, parameters, auth scheme, statuses and page sizes
of documented helpdesk APIs. Explicit flags (and their environment variables)
override a preset; the URL's own query parameters win over a preset's.

Ids: each preset counts a ticket by the field that is unique in any listing
of that API, and stays the same while a ticket moves (GitHub's and GitLab's
``id``, not the per-repository ``number``/``iid``; Jira's ``id``, not the
``key`` that changes when an issue moves to another project).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    example: str  # an example URL
    auth: str
    paginate: str
    items: str = ""
    id: str = "id"
    category: str = "category"
    status: str = "status"
    open_statuses: tuple[str, ...] = ()
    closed_statuses: tuple[str, ...] = ()
    missing_category: str = ""
    skip: str = ""
    next_path: str = ""
    has_more_path: str = ""
    cursor_path: str = ""
    page_param: str = ""
    size_param: str = ""
    total_path: str = ""
    page_size: int = 0
    params: tuple[tuple[str, str], ...] = ()
    required_params: tuple[str, ...] = field(default=())
    note: str = ""

    def settings(self) -> list[tuple[str, str]]:
        """(flag, value) of what this preset sets, for --preset list."""
        shown = [
            ("--auth", self.auth),
            ("--paginate", self.paginate),
            ("--items", self.items),
            ("--id-field", self.id),
            ("--category-field", self.category),
            ("--status-field", self.status),
            ("--open-status", ",".join(self.open_statuses)),
            ("--closed-status", ",".join(self.closed_statuses)),
            ("--missing-category", self.missing_category),
            ("--skip-field", self.skip),
            ("--next-path", self.next_path),
            ("--has-more-path", self.has_more_path),
            ("--cursor-path", self.cursor_path),
            ("--page-param", self.page_param),
            ("--size-param", self.size_param),
            ("--total-path", self.total_path),
            ("--page-size", str(self.page_size) if self.page_size else ""),
            ("query", "&".join(f"{k}={v}" for k, v in self.params)),
        ]
        return [(flag, value) for flag, value in shown if value]


PRESETS = {
    preset.name: preset
    for preset in [
        # Redmine REST API (issues with status.is_closed). Source: redmine/redmine,
        # app/controllers/application_controller.rb api_offset_and_limit (limit
        # default 25, silently capped at 100); app/views/issues/index.api.rsb
        # (status {id, name} and, in recent versions, is_closed; category {id, name} only
        # when set; total_count/offset/limit); app/models/issue_query.rb (open
        # issues only unless status_id=*); the API key header X-Redmine-API-Key.
        Preset(
            name="redmine",
            title="Redmine issues",
            example="https://redmine.example.com/issues.json",
            auth="header:X-Redmine-API-Key",
            paginate="offset",
            items="issues",
            category="category.name",
            status="status.is_closed",
            closed_statuses=("true",),
            missing_category="(none)",
            page_param="offset",
            size_param="limit",
            total_path="total_count",
            page_size=100,
            params=(("status_id", "*"), ("sort", "id")),
            note="a Redmine whose issues carry no status.is_closed (older versions) fails "
            "with exit 4: add "
            "--status-field status.name --closed-status Closed --closed-status Rejected",
        ),
        # GitHub REST API "List repository issues" (docs.github.com/rest/issues):
        # state open|closed|all (default open), per_page at most 100 (default
        # 30), sort=created&direction=asc for a stable order; pull requests
        # come in the list with a "pull_request" key; pagination by the Link
        # header ("Using pagination in the REST API"); bearer tokens.
        Preset(
            name="github",
            title="GitHub issues of a repository",
            example="https://api.github.com/repos/OWNER/REPO/issues",
            auth="bearer",
            paginate="link",
            category="labels.0.name",
            status="state",
            closed_statuses=("closed",),
            missing_category="(none)",
            skip="pull_request",
            size_param="per_page",
            page_size=100,
            params=(("state", "all"), ("sort", "created"), ("direction", "asc")),
            note="the category is the first label",
        ),
        # GitLab REST API v4 (gitlabhq/gitlabhq doc/api/issues.md, doc/api/rest/
        # _index.md "Pagination"): state opened|closed|all, per_page at most
        # 100 (default 20), order_by=created_at&sort=asc, Link and X-Next-Page
        # headers (X-Total is left out over 10,000 issues, Link stays), labels
        # a list of names, the PRIVATE-TOKEN header.
        Preset(
            name="gitlab",
            title="GitLab issues of a project or group",
            example="https://gitlab.example.com/api/v4/projects/ID/issues",
            auth="header:PRIVATE-TOKEN",
            paginate="link",
            category="labels.0",
            status="state",
            closed_statuses=("closed",),
            missing_category="(none)",
            size_param="per_page",
            page_size=100,
            params=(("state", "all"), ("order_by", "created_at"), ("sort", "asc")),
            note="the category is the first label",
        ),
        # Zendesk Support API (developer.zendesk.com "Pagination", "Tickets"):
        # cursor pagination with page[size] (at most 100): links.next and
        # meta.has_more; status new|open|pending|hold|solved|closed; type
        # problem|incident|question|task or null; Basic "email/token:TOKEN".
        Preset(
            name="zendesk",
            title="Zendesk Support tickets",
            example="https://SUBDOMAIN.zendesk.com/api/v2/tickets.json",
            auth="basic",
            paginate="next-url",
            items="tickets",
            category="type",
            status="status",
            closed_statuses=("solved", "closed"),
            missing_category="(none)",
            next_path="links.next",
            has_more_path="meta.has_more",
            size_param="page[size]",
            page_size=100,
            note="token: EMAIL/token:API_TOKEN; archived tickets (closed over 120 days) "
            "are not in this list",
        ),
        # Jira Cloud REST API v3 "Search for issues using JQL enhanced search"
        # (developer.atlassian.com, GET /rest/api/3/search/jql): a bounded jql
        # is required, fields default to id only, maxResults (default 50),
        # nextPageToken absent on the last page; statusCategory.key
        # new|indeterminate|done; Basic "email:api_token".
        Preset(
            name="jira",
            title="Jira Cloud issues (enhanced JQL search)",
            example="https://SITE.atlassian.net/rest/api/3/search/jql?jql=project%3DHD",
            auth="basic",
            paginate="cursor",
            items="issues",
            category="fields.issuetype.name",
            status="fields.status.statusCategory.key",
            closed_statuses=("done",),
            cursor_path="nextPageToken",
            page_param="nextPageToken",
            size_param="maxResults",
            page_size=100,
            params=(("fields", "status,issuetype"),),
            required_params=("jql",),
            note="token: EMAIL:API_TOKEN; the URL names a bounded JQL (jql=project=HD)",
        ),
        # Freshdesk API v2 "List All Tickets" (developers.freshdesk.com/api):
        # without updated_since only tickets created in the last 30 days,
        # per_page at most 100, order_by/order_type, Link header rel="next";
        # status 2 Open, 3 Pending, 4 Resolved, 5 Closed; type or null; Basic
        # "API_KEY:X".
        Preset(
            name="freshdesk",
            title="Freshdesk tickets",
            example="https://DOMAIN.freshdesk.com/api/v2/tickets",
            auth="basic",
            paginate="link",
            category="type",
            status="status",
            closed_statuses=("4", "5"),
            missing_category="(none)",
            size_param="per_page",
            page_size=100,
            params=(
                ("updated_since", "2000-01-01T00:00:00Z"),
                ("order_by", "created_at"),
                ("order_type", "asc"),
            ),
            note="token: API_KEY:X; Freshdesk serves at most 300 pages (30,000 tickets)",
        ),
        # json-server 0.17 (typicode/json-server lib/server/router/plural.js):
        # _page and _limit, a Link header (empty when one page holds all).
        Preset(
            name="json-server",
            title="json-server 0.17",
            example="http://localhost:3000/tickets",
            auth="bearer",
            paginate="link",
            size_param="_limit",
            page_size=100,
            params=(("_page", "1"),),
        ),
    ]
}


def describe() -> str:
    """The text of --preset list."""
    lines = []
    for preset in PRESETS.values():
        lines.append(f"{preset.name}: {preset.title}, e.g. --api {preset.example}")
        lines += [f"    {flag} {value}" for flag, value in preset.settings()]
        if preset.note:
            lines.append(f"    note: {preset.note}")
    return "\n".join(lines) + "\n"
