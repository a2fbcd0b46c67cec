#!/usr/bin/env bash
# Run the role's Molecule scenarios: default and cron with `molecule test`;
# lifecycle converges one host through systemd -> cron -> absent, and at each
# phase checks converge, idempotence, check mode (--check --diff changes
# nothing) and verify. Usage: scripts/molecule.sh [SCENARIO ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root/.venv/bin:$PATH" ANSIBLE_HOME=${ANSIBLE_HOME:-$root/.ansible}
cd "$root/roles/tickets"
log=$(mktemp)
trap 'rm -f "$log" "$log.check"' EXIT
scenarios=("${@:-default cron lifecycle}")
read -r -a scenarios <<<"${scenarios[*]}"

step() { echo "molecule: $*"; }

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
    done
    step "lifecycle: absent keeps the accounts that are not the role's"
    docker exec "$container" getent group tickets | grep -q bystander ||
        { step "absent removed a group that has other members"; return 1; }
    TICKETS_STATE=absent TICKETS_USER=bystander molecule converge -s $s
    docker exec "$container" getent passwd bystander >/dev/null ||
        { step "absent removed a user the role did not create"; return 1; }
    molecule destroy -s $s
}

for scenario in "${scenarios[@]}"; do
    start=$SECONDS
    step "scenario $scenario ..."
    if [ "$scenario" = lifecycle ]; then lifecycle; else molecule test -s "$scenario"; fi
    step "scenario $scenario passed in $((SECONDS - start)) s"
done
