#!/usr/bin/env bash
# The demo: deploy the report with the real playbook to a local container that
# boots systemd (it stands in for a server), fed by the mock API, then run the
# job once and show what an operator checks.
# Usage: scripts/demo.sh [systemd|cron]   (make demo [SCHEDULER=cron])
#        scripts/demo.sh --clean          (make demo-clean: remove the container)
# Run again on a running demo, it re-applies the playbook (changed=0).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_HOME=$root/.ansible ANSIBLE_ROLES_PATH=$root/roles
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$root/.ansible/collections}
export ANSIBLE_LOCAL_TEMP=${ANSIBLE_LOCAL_TEMP:-$root/.ansible/tmp}
export ANSIBLE_FORCE_COLOR=false ANSIBLE_NOCOLOR=true

container=tickets-demo
image=${TICKETS_IMAGE_BOOKWORM:-tickets-systemd:bookworm}
mock_port=3000
mock_unit=tickets-mock-api.service
mock_path=/usr/local/lib/tickets-mock-api.py
report_dir=/var/lib/tickets/reports
log_dir=$root/logs
playbook_log=$log_dir/demo-playbook.log

say() { echo "demo: $*"; }
# A failure ends with one line saying what failed and what to do.
reported=false
die() {
    reported=true
    echo "demo: ${step_no:+[$step_no/$step_total] }failed: $*" >&2
    exit 1
}
in_box() { docker exec "$container" "$@"; }

step_no="" step_total=6 step_start=0
step() {
    step_done
    step_no=$((${step_no:-0} + 1)) step_start=$SECONDS
    say "[$step_no/$step_total] $* ..."
}
step_done() {
    [ -z "$step_no" ] || say "[$step_no/$step_total] done in $((SECONDS - step_start)) s"
}
# An unexpected failure (a docker command, say) names the step it broke.
trap 'rc=$?; [ $rc -eq 0 ] || $reported || [ -z "$step_no" ] ||
    echo "demo: [$step_no/$step_total] failed (exit $rc): see the messages above" >&2' EXIT

if [ "${1:-}" = --clean ]; then
    # Only the container: the image and the venv stay for the next demo.
    docker version >/dev/null 2>&1 || die "Docker engine not running or not accessible: run 'make prereqs'"
    if docker container inspect "$container" >/dev/null 2>&1; then
        docker rm -f "$container" >/dev/null
        say "removed container $container (image $image and .venv kept)"
    else
        say "no container $container: nothing to remove"
    fi
    exit 0
fi

scheduler=${1:-systemd}
case $scheduler in
    systemd | cron) ;;
    *) die "unknown scheduler '$scheduler': use SCHEDULER=systemd or SCHEDULER=cron" ;;
esac
command -v ansible-playbook >/dev/null || die "no ansible-playbook in $root/.venv: run 'make venv' (or 'make demo')"
total_start=$SECONDS

# 1. Docker engine and debootstrap: the same step as `make test`. Its own
#    message says what to do when something is missing.
step "checking prerequisites (Docker engine, debootstrap)"
scripts/prereqs.sh || { reported=true; exit 1; }

# 2. The systemd Debian image, built by the script Molecule uses.
step "systemd base image $image (built with debootstrap when missing: 1-2 minutes)"
scripts/build-image.sh bookworm "$image" || { reported=true; exit 1; }

# 3. The container: reuse it if it runs, start it if it is stopped, else
#    create it with the options that let systemd boot as PID 1 here.
step "starting container $container"
state=$(docker container inspect --format '{{.State.Status}}' "$container" 2>/dev/null || true)
case $state in
    running) say "container $container already runs: reusing it" ;;
    "")
        docker run --detach --name "$container" --hostname "$container" \
            --cgroupns host --cap-add SYS_ADMIN \
            --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
            --tmpfs /run --tmpfs /run/lock --volume /sys/fs/cgroup:/sys/fs/cgroup:rw \
            "$image" /lib/systemd/systemd >/dev/null
        ;;
    paused) docker unpause "$container" >/dev/null ;;
    *)
        say "container $container is $state: starting it"
        docker start "$container" >/dev/null
        ;;
esac
say "waiting for systemd in $container to finish booting ..."
for _ in $(seq 120); do
    # "running", or "degraded" (a unit that needs real hardware failed).
    sys_state=$(in_box systemctl is-system-running 2>/dev/null || true)
    case $sys_state in running | degraded) break ;; esac
    sleep 0.5
done
case $sys_state in
    running | degraded) say "systemd is $sys_state" ;;
    *)
        in_box systemctl --failed --no-pager >&2 || true
        die "systemd in $container did not boot within 60 s (state: '${sys_state:-no answer}'); see 'docker logs $container'"
        ;;
esac

# 4. The mock API inside the container, as a transient systemd service run by
#    the system python3 (mock_api.py is standard library only).
step "starting the mock API in $container (unit $mock_unit, port $mock_port)"
if [ "$(in_box sha256sum "$mock_path" 2>/dev/null | cut -d' ' -f1)" != "$(sha256sum files/mock_api.py | cut -d' ' -f1)" ]; then
    docker cp files/mock_api.py "$container:$mock_path" >/dev/null
    # A newer copy replaces a running one.
    in_box systemctl stop "$mock_unit" 2>/dev/null || true
fi
if in_box systemctl is-active --quiet "$mock_unit"; then
    say "the mock API already runs"
else
    in_box systemctl reset-failed "$mock_unit" 2>/dev/null || true
    in_box systemd-run --quiet --unit "$mock_unit" --property Restart=on-failure \
        /usr/bin/python3 "$mock_path" --host 127.0.0.1 --port "$mock_port" --seed 42
fi
health="import urllib.request; urllib.request.urlopen('http://127.0.0.1:$mock_port/healthz', timeout=2)"
for _ in $(seq 40); do
    in_box /usr/bin/python3 -c "$health" 2>/dev/null && break
    sleep 0.25
done || true
in_box /usr/bin/python3 -c "$health" 2>/dev/null || {
    in_box journalctl -u "$mock_unit" --no-pager -n 20 >&2 || true
    die "the mock API did not answer on http://127.0.0.1:$mock_port/healthz in $container"
}
say "mock API: http://127.0.0.1:$mock_port/tickets (inside $container)"

# 5. The real deployment. One line per task that changes something, the
#    failing task with its message, and the recap; the full log is kept.
step "ansible-playbook -i inventory/demo.yml playbook.yml -e tickets_scheduler=$scheduler"
if in_box test -x /opt/tickets/venv/bin/python; then
    say "already deployed: re-applying the playbook (expect changed=0 unless the scheduler changes)"
else
    say "first deployment: apt packages, then the job's virtualenv with pip (30-60 s) ..."
fi
mkdir -p "$log_dir"
set +e
ansible-playbook -i inventory/demo.yml playbook.yml -e "tickets_scheduler=$scheduler" 2>&1 |
    tee "$playbook_log" |
    awk '
        /^TASK \[|^RUNNING HANDLER \[/ {
            task = $0; sub(/^[^[]*\[/, "", task); sub(/\] \**$/, "", task); next
        }
        /^changed: / {
            item = ""
            if (match($0, /\(item=[^)]*\)/)) item = " " substr($0, RSTART, RLENGTH)
            print "  changed: " task item; fflush(); next
        }
        # A failure: the task, the error with its origin, the module result.
        /^(fatal|failed): |^\[ERROR\]/ {
            if (task != "" && task != failed_task) { print "  FAILED: " task; failed_task = task }
            print "  " $0; origin = /^\[ERROR\]/; fflush(); next
        }
        origin && /^Origin: / { print "  " $0; origin = 0; fflush(); next }
        /^\.\.\.ignoring/ { print "  (ignored)"; fflush(); next }
        /^\[WARNING\]/ { print "  " $0; fflush(); next }
        /^PLAY RECAP/ { recap = 1 }
        recap && NF { print; fflush() }
    '
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
    die "ansible-playbook failed (exit $rc); full output: $playbook_log"
fi
say "full ansible-playbook output: $playbook_log"

# 6. Run the job once, as its scheduler does, and show what an operator checks.
step "running the job once ($scheduler)"
before=$(in_box find "$report_dir" -maxdepth 1 -name '*.json' -printf '%f\n' 2>/dev/null | sort || true)
sleep 1   # reports are named by the second: the new one gets a new name
if [ "$scheduler" = systemd ]; then
    set +e
    in_box systemctl start tickets.service
    job_rc=$?
    set -e
    invocation=$(in_box systemctl show --property InvocationID --value tickets.service)
    # The job's own lines of this run (journald may need a moment for the last).
    run_log() {
        in_box journalctl --unit tickets.service "_SYSTEMD_INVOCATION_ID=$invocation" \
            --output cat --no-pager 2>/dev/null || true
    }
    output="" previous=""
    for _ in $(seq 20); do
        output=$(run_log)
        [ -n "$output" ] && [ "$output" = "$previous" ] && break
        previous=$output
        sleep 0.25
    done
    look="docker exec -it $container journalctl -u tickets.service"
    shown="journalctl -u tickets.service _SYSTEMD_INVOCATION_ID=$invocation"
else
    # The command of the installed cron entry (its wrapper sends the job's
    # output to the journal, tag tickets, and exits with the job's status),
    # as its user; then the lines it logged.
    entry=$(in_box grep -E '^[0-9*]' /etc/cron.d/tickets | head -n1)
    read -r _m _h _dom _mon _dow cron_user cron_command <<<"$entry"
    since=$(in_box date '+%Y-%m-%d %H:%M:%S')
    set +e
    in_box runuser -u "$cron_user" -- /bin/sh -c "$cron_command"
    job_rc=$?
    set -e
    output="" previous=""
    for _ in $(seq 20); do
        output=$(in_box journalctl -t tickets --since "$since" --output cat --no-pager 2>/dev/null || true)
        [ -n "$output" ] && [ "$output" = "$previous" ] && break
        previous=$output
        sleep 0.25
    done
    look="docker exec -it $container journalctl -t tickets"
    shown="journalctl -t tickets, after the command of /etc/cron.d/tickets run as $cron_user"
fi
echo
echo "== the job's output ($shown) =="
printf '%s\n' "$output"
[ "$job_rc" -eq 0 ] || die "the job failed (exit $job_rc): see its output above, or: $look"

after=$(in_box find "$report_dir" -maxdepth 1 -name '*.json' -printf '%f\n' | sort)
new=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | tail -n1)
[ -n "$new" ] || die "the job wrote no new report in $report_dir"
echo
echo "== newest report: $report_dir/$new =="
printf '%s\n\n' "$(in_box cat "$report_dir/$new")"
if [ "$scheduler" = systemd ]; then
    echo "== next run: systemctl list-timers tickets.timer =="
    in_box systemctl list-timers tickets.timer --no-pager
else
    echo "== schedule: /etc/cron.d/tickets =="
    in_box cat /etc/cron.d/tickets
fi
echo
echo "== look inside =="
echo "  $look"
echo "  docker exec -it $container ls -l $report_dir"
echo "  make demo-clean     # remove the container"
echo
step_done
step_no=""
say "done in $((SECONDS - total_start)) s (scheduler $scheduler)"
