#!/usr/bin/env bash
# Run the role's Molecule scenarios: default and cron with `molecule test`;
# lifecycle converges one host through systemd -> cron -> absent, and at each
# phase checks converge, idempotence, check mode (--check --diff changes
# nothing) and verify. Usage: scripts/molecule.sh [SCENARIO ...]
# Several scenarios run side by side, TICKETS_MOLECULE_JOBS (3) at a time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root/.venv/bin:$PATH" ANSIBLE_HOME=${ANSIBLE_HOME:-$root/.ansible}
cd "$root/roles/tickets"
log=$(mktemp)
trap 'rm -f "$log" "$log.check"' EXIT
# The longest first: they set the pace when several run side by side.
scenarios=("${@:-lifecycle controller default cron refuse}")
read -r -a scenarios <<<"${scenarios[*]}"

step() { echo "molecule: $*"; }

# A pin change while the package index is down: the play fails at pip, and
# the job keeps working with the old virtualenv (atomic venv upgrade).
failed_upgrade() {
    local s=lifecycle src
    step "lifecycle: a pin change while the package index is down"
    src=$(mktemp -d)
    cp -r "$root/files/." "$src"
    sed -i -E 's/^(shortuuid)==.*/\1==1.0.12/' "$src/requirements.txt"
    if TICKETS_SOURCE_DIR=$src TICKETS_PIP_INDEX_URL=http://127.0.0.1:9/simple \
        molecule converge -s $s >"$log" 2>&1; then
        step "the play passed with the package index down"; rm -rf "$src"; return 1
    fi
    rm -rf "$src"
    # The one failure is pip's, against the dead index (Molecule boxes and
    # colours Ansible's output, and may wrap its lines).
    sed 's/\x1b\[[0-9;]*m//g' "$log" >"$log.plain"
    if [ "$(grep -c 'fatal: \[' "$log.plain")" != 1 ] ||
        ! grep -q 'No matching distribution found' "$log.plain"; then
        grep -E 'TASK \[|fatal: |ERROR' "$log.plain" | tail -n 20
        rm -f "$log.plain"
        step "the play did not fail at pip, or not only there"; return 1
    fi
    rm -f "$log.plain"
    molecule verify -s $s
}

lifecycle() {
    local s=lifecycle container=${TICKETS_MOLECULE_PREFIX:-tickets}-lifecycle-trixie
    trap 'molecule destroy -s lifecycle >/dev/null 2>&1 || true; rm -f "$log" "$log.check"' EXIT
    molecule destroy -s $s >/dev/null 2>&1 || true
    molecule dependency -s $s
    molecule create -s $s
    molecule prepare -s $s
    # Check mode on a host the role never touched must not fail.
    TICKETS_SCHEDULER=systemd TICKETS_STATE=present molecule converge -s $s -- --check
    for phase in systemd:present cron:present cron:absent; do
        export TICKETS_SCHEDULER=${phase%%:*} TICKETS_STATE=${phase##*:}
        # The present phases also run the job from the play (tickets_run_on_deploy):
        # the first one for a new install, the second one for the scheduler switch.
        export TICKETS_RUN_ON_DEPLOY=$([ "$TICKETS_STATE" = present ] && echo true || echo false)
        step "lifecycle phase: scheduler=$TICKETS_SCHEDULER state=$TICKETS_STATE"
        if [ "$phase" = cron:absent ]; then
            # absent must keep a group that has other members, and wait for a
            # run in progress (userdel refuses a user with running processes).
            docker exec "$container" useradd --system --no-create-home -G tickets bystander
            docker exec -d "$container" runuser -u tickets -- /usr/bin/flock --nonblock /run/lock/tickets.lock \
                /bin/sh -c 'set -a; . /etc/tickets/tickets.env; set +a
                TICKETS_API_URL="http://127.0.0.1:3000/tickets?delay=8" exec /opt/tickets/venv/bin/python /opt/tickets/tickets.py'
            held=false
            for _ in $(seq 30); do  # until the run holds the lock (slow on a loaded machine)
                docker exec "$container" runuser -u tickets -- /usr/bin/flock --nonblock /run/lock/tickets.lock \
                    /bin/true || { held=true; break; }
                sleep 0.5
            done
            $held || { step "the slow run did not start"; return 1; }
        fi
        # --diff: a task that wrote the token without no_log would show it.
        molecule converge -s $s -- --diff 2>&1 | tee "$log"
        if [ "$TICKETS_RUN_ON_DEPLOY" = true ] && ! grep -qE '(TASK|RUNNING HANDLER) \[tickets : Run the job once\]' "$log"; then
            step "tickets_run_on_deploy did not run the job after the change"; return 1
        fi
        molecule idempotence -s $s 2>&1 | tee -a "$log"
        molecule converge -s $s -- --check --diff 2>&1 | tee "$log.check"
        grep -qE 'changed=[1-9]' "$log.check" && { step "check mode reports changes on a converged host"; return 1; }
        cat "$log.check" >>"$log"
        # The API token and the proxy credential (shared/converge.yml) must
        # never show, --diff included.
        grep -qE 'molecule-secret-token|molecule-proxy-secret' "$log" &&
            { step "a secret appears in Ansible's output"; return 1; }
        molecule verify -s $s
        if [ "$phase" = systemd:present ]; then failed_upgrade || return 1; fi
    done
    step "lifecycle: absent keeps the accounts that are not the role's"
    docker exec "$container" getent group tickets | grep -q bystander ||
        { step "absent removed a group that has other members"; return 1; }
    TICKETS_STATE=absent TICKETS_USER=bystander molecule converge -s $s
    docker exec "$container" getent passwd bystander >/dev/null ||
        { step "absent removed a user the role did not create"; return 1; }
    molecule destroy -s $s
}

# refuse: preflight stops a Debian 10 host (refuse/prepare.yml) with its
# message, before anything changed: packages, users, groups and the files
# under /etc /opt /usr/local /var/lib are the same before and after.
refuse() {
    local s=refuse host=${TICKETS_MOLECULE_PREFIX:-tickets}-refuse-bullseye
    trap 'molecule destroy -s refuse >/dev/null 2>&1 || true; rm -f "$log" "$log".*' EXIT
    molecule destroy -s $s >/dev/null 2>&1 || true
    molecule dependency -s $s
    molecule create -s $s
    molecule prepare -s $s
    snapshot() {
        docker exec "$host" sh -c 'dpkg-query -W; getent passwd; getent group;
            find /etc /opt /usr/local /var/lib -xdev -path /var/lib/systemd -prune -o -printf "%p %s %m %T@\n" | sort'
    }
    snapshot >"$log.before"
    if molecule converge -s $s 2>&1 | tee "$log"; then
        step "converge succeeded on a Debian 10 host"; return 1
    fi
    # Molecule wraps and colours the output: compare it as one line.
    sed 's/\x1b\[[0-9;]*m//g; s/^[[:space:]│]*//' "$log" | tr '\n' ' ' | tr -s ' ' |
        grep -q 'tickets needs Debian 11 or newer or Ubuntu 22.04 or newer (this host is Debian 10.13)' ||
        { step "converge failed, but not with the preflight's message"; return 1; }
    snapshot >"$log.after"
    diff "$log.before" "$log.after" || { step "the refused host was changed (diff above)"; return 1; }
    molecule destroy -s $s
}

# controller: the controller matrix. For each ansible-core version (default:
# the oldest claimed and the newest), scripts/ansible-venv.sh makes
# .venv-ansible-VERSION; Molecule (from .venv) then runs the scenario with
# that version's ansible-playbook first on PATH and the community.docker
# collection of .venv's ansible package.
controller() {
    local s=controller v collections
    trap 'molecule destroy -s controller >/dev/null 2>&1 || true; rm -f "$log" "$log".*' EXIT
    collections=$("$root/.venv/bin/python" -c 'import ansible_collections, os; print(os.path.dirname(ansible_collections.__path__[0]))')
    for v in ${TICKETS_ANSIBLE_VERSIONS:-2.15 2.21}; do
        "$root/scripts/ansible-venv.sh" "$v"
        step "controller: ansible-core $v ($("$root/.venv-ansible-$v/bin/ansible-playbook" --version | sed -n 1p))"
        PATH="$root/.venv-ansible-$v/bin:$PATH" ANSIBLE_COLLECTIONS_PATH=$collections molecule test -s $s
    done
}

run_scenario() {
    case $1 in
        lifecycle | refuse | controller) "$1" ;;
        *) molecule test -s "$1" ;;
    esac
}

# One scenario (or TICKETS_MOLECULE_JOBS=1): one after the other, output here.
jobs_max=${TICKETS_MOLECULE_JOBS:-3}
if [ "${#scenarios[@]}" -eq 1 ] || [ "$jobs_max" -le 1 ]; then
    for scenario in "${scenarios[@]}"; do
        start=$SECONDS
        step "scenario $scenario ..."
        run_scenario "$scenario"
        step "scenario $scenario passed in $((SECONDS - start)) s"
    done
    exit 0
fi

# Several: side by side, jobs_max at a time (their containers have distinct
# names), each in a subshell with its own log in .ansible/molecule-logs; the
# log's end is shown when one fails.
logs=$root/.ansible/molecule-logs
mkdir -p "$logs"
declare -A running=() started=()
pending=("${scenarios[@]}") rc=0 total=$SECONDS
while [ "${#pending[@]}" -gt 0 ] || [ "${#running[@]}" -gt 0 ]; do
    while [ "${#pending[@]}" -gt 0 ] && [ "${#running[@]}" -lt "$jobs_max" ]; do
        scenario=${pending[0]} pending=("${pending[@]:1}")
        step "scenario $scenario started (log: $logs/$scenario.log)"
        (
            log=$(mktemp)
            trap 'rm -f "$log" "$log".*' EXIT
            run_scenario "$scenario"
        ) >"$logs/$scenario.log" 2>&1 </dev/null &
        running[$!]=$scenario started[$scenario]=$SECONDS
    done
    status=0
    wait -n -p done_pid || status=$?
    scenario=${running[$done_pid]}
    unset "running[$done_pid]"
    took=$((SECONDS - started[$scenario]))
    if [ "$status" -eq 0 ]; then
        step "scenario $scenario passed in $took s"
    else
        step "scenario $scenario FAILED (exit $status) after $took s; the end of $logs/$scenario.log:"
        tail -n 60 "$logs/$scenario.log" | sed 's/^/    /'
        rc=1
    fi
done
step "all scenarios done in $((SECONDS - total)) s, $jobs_max at a time"
exit $rc
