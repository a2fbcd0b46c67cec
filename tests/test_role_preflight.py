"""The role's preflight refuses bad values before anything changes on the host.

One ansible-playbook run, in check mode and with only the preflight tasks
(--tags tickets_preflight), against many inventory hosts that are all this
machine (connection local), each with one bad value; every refusal must name
its variable, and a host with good (unusual) values must pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support import ROOT

BASE = {
    "tickets_api_url": "http://127.0.0.1:3000/tickets",
    # The test machine need not run systemd; the scheduler is not what is tested.
    "tickets_scheduler": "cron",
}
SECRET = "pr3flight-secret"

# host: (its variables, the variable the refusal must name, more text it must hold)
CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "root_install": ({"tickets_install_dir": "/"}, "tickets_install_dir", "system directory"),
    "etc_config": ({"tickets_config_dir": "/etc"}, "tickets_config_dir", "system directory"),
    "etc_config_absent": (
        {"tickets_config_dir": "/etc", "tickets_state": "absent"},
        "tickets_config_dir",
        "system directory",
    ),
    "opt_install": ({"tickets_install_dir": "/opt/"}, "tickets_install_dir", "system directory"),
    "usr_install": ({"tickets_install_dir": "/usr"}, "tickets_install_dir", "system directory"),
    "var_lib_report": ({"tickets_report_dir": "/var/lib"}, "tickets_report_dir", "system"),
    "home_report": ({"tickets_report_dir": "/home/ops/reports"}, "tickets_report_dir", "sandbox"),
    "tmp_report": ({"tickets_report_dir": "/tmp/reports"}, "tickets_report_dir", "sandbox"),
    "var_tmp_config": ({"tickets_config_dir": "/var/tmp/t"}, "tickets_config_dir", "sandbox"),
    "space_report": ({"tickets_report_dir": "/srv/my reports"}, "tickets_report_dir", "letters"),
    "percent_install": ({"tickets_install_dir": "/srv/t%h"}, "tickets_install_dir", "letters"),
    "quote_config": ({"tickets_config_dir": "/srv/it's"}, "tickets_config_dir", "letters"),
    "relative_report": ({"tickets_report_dir": "reports"}, "tickets_report_dir", "absolute"),
    "dotdot_report": ({"tickets_report_dir": "/srv/../etc"}, "tickets_report_dir", ".."),
    "nested_report": (
        {"tickets_report_dir": "/opt/tickets/reports"},
        "tickets_report_dir",
        "tickets_install_dir",
    ),
    "keep": ({"tickets_keep_reports": -1}, "tickets_keep_reports", "0"),
    "timeout": ({"tickets_http_timeout": 0}, "tickets_http_timeout", "greater than 0"),
    "retries": ({"tickets_http_retries": -1}, "tickets_http_retries", "0 or more"),
    "size_unit": ({"tickets_max_response_size": "1T"}, "tickets_max_response_size", "512K"),
    "size_zero": ({"tickets_max_response_size": "0M"}, "tickets_max_response_size", "size"),
    "job_timeout": ({"tickets_job_timeout_sec": 0}, "tickets_job_timeout_sec", "greater than 0"),
    "delay": ({"tickets_randomized_delay_sec": -5}, "tickets_randomized_delay_sec", "0 or more"),
    "minute_60": ({"tickets_cron_minute": "60"}, "tickets_cron_minute", "0 to 59"),
    "minute_two_fields": ({"tickets_cron_minute": "0 0"}, "tickets_cron_minute", "minute"),
    "hour_25": ({"tickets_cron_hour": "*/3,25"}, "tickets_cron_hour", "0 to 23"),
    "hour_step_0": ({"tickets_cron_hour": "*/0"}, "tickets_cron_hour", "STEP"),
    "user_root": ({"tickets_user": "root"}, "tickets_user", "root"),
    "group_name": ({"tickets_group": "bad group"}, "tickets_group", "group name"),
    "schedule": ({"tickets_schedule": "daily\nExecStart=/bin/evil"}, "tickets_schedule", "line"),
    "status_comma": ({"tickets_open_statuses": ["open,new"]}, "tickets_open_statuses", "comma"),
    "env_name": (
        {"tickets_job_environment": {"BAD-NAME": SECRET}},
        "tickets_job_environment",
        "BAD-NAME",
    ),
    "api_url": (
        {"tickets_api_url": f"ftp://user:{SECRET}@api.example/t?key={SECRET}"},
        "tickets_api_url",
        "'ftp://api.example/t'",
    ),
}
GOOD = {
    "tickets_install_dir": "/srv/tickets-app",
    "tickets_config_dir": "/etc/tickets-2",
    "tickets_report_dir": "/var/lib/tickets/reports",
    "tickets_cron_minute": "*/15,7",
    "tickets_cron_hour": "1-5/2,23",
    "tickets_max_response_size": "512Ki",
    "tickets_http_timeout": 0.5,
    "tickets_keep_reports": 0,
    "tickets_http_retries": 0,
    "tickets_job_environment": {"https_proxy": f"http://u:{SECRET}@proxy:3128"},
}


@pytest.fixture(scope="module")
def preflight(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the preflight once for every host; return its output by host."""
    playbook_bin = Path(sys.executable).parent / "ansible-playbook"
    if not playbook_bin.exists():
        pytest.skip("ansible-playbook is not in the venv (make venv)")
    work = tmp_path_factory.mktemp("preflight")
    hosts = {name: {**BASE, **values} for name, (values, _, _) in CASES.items()}
    hosts["good"] = {**BASE, **GOOD}
    for variables in hosts.values():
        variables.update(ansible_connection="local", ansible_python_interpreter=sys.executable)
    (work / "inventory.json").write_text(json.dumps({"all": {"hosts": hosts}}))
    (work / "play.yml").write_text("- hosts: all\n  gather_facts: false\n  roles: [tickets]\n")
    env = {
        **os.environ,
        "ANSIBLE_HOME": str(work / "ansible"),
        "ANSIBLE_LOCAL_TEMP": str(work / "ansible" / "tmp"),
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_FORKS": "10",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
    }
    command = [str(playbook_bin), "-i", str(work / "inventory.json"), str(work / "play.yml")]
    command += ["--check", "--tags", "tickets_preflight"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=work)
    shutil.rmtree(work / "ansible", ignore_errors=True)
    output = json.loads(done.stdout)
    by_host: dict[str, Any] = {name: {"messages": [], "changed": []} for name in hosts}
    for play in output["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                for item in result.get("results", [result]):
                    if item.get("failed"):
                        by_host[host]["messages"].append(str(item.get("msg")))
                    if item.get("changed"):
                        by_host[host]["changed"].append(task["task"]["name"])
    stats = output["stats"]
    return {"hosts": by_host, "stdout": done.stdout, "stderr": done.stderr, "stats": stats}


@pytest.mark.parametrize("host", sorted(CASES))
def test_bad_value_is_refused(preflight: dict[str, Any], host: str) -> None:
    _, variable, needle = CASES[host]
    result = preflight["hosts"][host]
    assert preflight["stats"][host]["failures"] == 1, result
    assert result["changed"] == []
    assert any(variable in m and needle in m for m in result["messages"]), result["messages"]


def test_good_values_pass(preflight: dict[str, Any]) -> None:
    assert preflight["hosts"]["good"]["messages"] == []
    assert preflight["stats"]["good"]["failures"] == 0
    assert preflight["stats"]["good"]["changed"] == 0


def test_no_secret_in_the_output(preflight: dict[str, Any]) -> None:
    assert SECRET not in preflight["stdout"]
    assert SECRET not in preflight["stderr"]
