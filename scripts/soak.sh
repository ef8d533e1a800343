#!/usr/bin/env bash
# Soak test (not run in CI): 20 jobs submitted by 3 users to a coordinator with 3 workers on loopback, while
# workers are killed (SIGKILL) and restarted at random and the coordinator is killed twice and restarted on the
# same state directory. Passes when every job ends as the same request run locally did: `succeeded` with the same
# sha256, or `failed` where the local run missed its targets; no worker is left `busy`; and the audit log records
# every submission and every outcome.
#   scripts/soak.sh [WORKDIR]        (default: a fresh temporary directory; figures go to WORKDIR/soak.json)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product lethe >/dev/null
lethe=$(swift build -c release --show-bin-path)/lethe
work=${1:-$(mktemp -d /tmp/lethe-soak.XXXXXX)}
mkdir -p "$work"
port=$((20000 + RANDOM % 20000))
workers_endpoint="tcp://127.0.0.1:$port"
export LETHE_COORDINATOR="tcp://127.0.0.1:$((port + 1))"
jobs_total=20
echo "soak in $work (coordinator on ports $port/$((port + 1)))"

# Keys: the coordinator's, and three users on its allowlist.
[ -f "$work/keys/coordinator.secret" ] || "$lethe" keys init "$work/keys" >/dev/null
for user in 1 2 3; do
    dir="$work/user-$user"
    if [ "$user" = 1 ]; then dir="$work/keys"; elif [ ! -f "$dir/user.secret" ]; then
        "$lethe" keys init "$dir" >/dev/null
        cp "$work/keys/coordinator.public" "$dir/coordinator.public"
        "$lethe" keys add-user --keys "$work/keys" "$(cat "$dir/user.public")" >/dev/null
    fi
    users[$user]=$dir
done

[ -f "$work/original.safetensors" ] || "$lethe" train --model fmnist-mlp --data fashion-mnist --epochs 2 \
    --batch-size 128 --lr 0.05 --seed 1 --out "$work/original.safetensors" >/dev/null
# The job mix (some miss their targets; they must fail the same way on the coordinator).
requests=()
for i in $(seq 1 $jobs_total); do
    seed=$(((i - 1) / 4 + 1))
    case $((i % 4)) in
    0) requests+=("--method finetune --forget-classes $((i % 10))") ;;
    1) requests+=("--method scrub --forget-classes $((i % 10))") ;;
    2) requests+=("--method neggrad+ --forget-classes $((i % 10))") ;;
    3) requests+=("--method finetune --forget-classes $((i % 10)),$(((i + 3) % 10))") ;;
    esac
    requests[-1]+=" --seed $seed --shards 2"
done
common=(--model fmnist-mlp --weights "$work/original.safetensors" --data fashion-mnist)

echo "computing the local result of every request"
for i in $(seq 1 $jobs_total); do
    [ -f "$work/local-$i.status" ] && continue
    status=0
    # shellcheck disable=SC2086
    "$lethe" unlearn "${common[@]}" ${requests[$((i - 1))]} --threads 1 --out "$work/local-$i.safetensors" \
        --report "$work/local-$i.json" >/dev/null 2>"$work/local-$i.log" || status=$?
    # A request that misses its targets locally (exit 1) must end `failed` on the coordinator too.
    [ "$status" = 0 ] || [ "$status" = 1 ] || { echo "request $i: exit $status" >&2; tail -3 "$work/local-$i.log"; exit 1; }
    echo "$status" >"$work/local-$i.status"
done

coordinator_pid=
start_coordinator() {
    "$lethe" coordinator --bind "$workers_endpoint" --control "$LETHE_COORDINATOR" --state-dir "$work/state" \
        --keys "$work/keys" --heartbeat-ms 250 --checkpoint-seconds 1 >>"$work/coordinator.log" 2>&1 &
    coordinator_pid=$!
    for _ in $(seq 1 100); do
        LETHE_KEYS="$work/keys" "$lethe" jobs --timeout 2 >/dev/null 2>&1 && return
        sleep 0.2
    done
    echo "the coordinator did not come up" >&2
    exit 1
}
declare -A worker_pids
start_worker() {
    "$lethe" worker --coordinator "$workers_endpoint" --keys "$work/keys" --name "worker-$1" --threads 1 \
        --cache-dir "$work/cache" >>"$work/worker-$1.log" 2>&1 &
    worker_pids[$1]=$!
}
cleanup() {
    kill "$chaos_pid" 2>/dev/null || true
    kill "$coordinator_pid" "${worker_pids[@]}" 2>/dev/null || true
    pkill -f -- "--cache-dir $work/cache" 2>/dev/null || true  # workers the chaos loop restarted
    wait 2>/dev/null || true
}
chaos_pid=
trap cleanup EXIT
start_coordinator
for w in 1 2 3; do start_worker "$w"; done

# Chaos: every 2-5 s a random worker is killed and restarted 0-2 s later.
(
    declare -A pids
    while true; do
        sleep $((2 + RANDOM % 4))
        w=$((1 + RANDOM % 3))
        pkill -9 -f -- "--name worker-$w " || true
        sleep $((RANDOM % 3))
        "$lethe" worker --coordinator "$workers_endpoint" --keys "$work/keys" --name "worker-$w" --threads 1 \
            --cache-dir "$work/cache" >>"$work/worker-$w.log" 2>&1 &
        echo "restarted worker-$w" >>"$work/chaos.log"
    done
) &
chaos_pid=$!

started=$(date +%s)
ids=()
for i in $(seq 1 $jobs_total); do
    user=$((1 + i % 3))
    # shellcheck disable=SC2086
    id=$(LETHE_KEYS=${users[$user]} "$lethe" submit "${common[@]}" ${requests[$((i - 1))]} --timeout 60)
    ids+=("$id")
    echo "$id: user $user, ${requests[$((i - 1))]}"
    if [ "$i" = 7 ] || [ "$i" = 14 ]; then
        sleep 3
        echo "killing the coordinator (pid $coordinator_pid)"
        kill -9 "$coordinator_pid"
        wait "$coordinator_pid" 2>/dev/null || true
        sleep 1
        start_coordinator
    fi
done

for id in "${ids[@]}"; do
    LETHE_KEYS="$work/keys" "$lethe" watch "$id" --timeout 60 >/dev/null 2>&1 || true
done
kill "$chaos_pid" 2>/dev/null || true
seconds=$(($(date +%s) - started))

failures=0
expected_failures=0
for i in $(seq 1 $jobs_total); do
    id=${ids[$((i - 1))]}
    state=$(LETHE_KEYS="$work/keys" "$lethe" status "$id" --format json | sed -n 's/.*"state" *: *"\([a-z]*\)".*/\1/p')
    local_sha=$(sed -n 's/.*"output_sha256" *: *"\([0-9a-f]*\)".*/\1/p' "$work/local-$i.json" | head -1)
    if [ "$(cat "$work/local-$i.status")" = 1 ]; then
        expected_failures=$((expected_failures + 1))
        [ "$state" = failed ] || { echo "FAIL $id: $state, but the local run missed its targets" >&2; failures=$((failures + 1)); }
        continue
    fi
    remote=$(LETHE_KEYS="$work/keys" "$lethe" result "$id" --out "$work/remote-$i.safetensors" --format json 2>/dev/null |
        sed -n 's/.*"output_sha256" *: *"\([0-9a-f]*\)".*/\1/p' | head -1)
    if [ "$state" != succeeded ] || [ "$remote" != "$local_sha" ]; then
        echo "FAIL $id: state $state, sha256 $remote, local $local_sha" >&2
        failures=$((failures + 1))
    fi
done
sleep 2
busy=$(LETHE_KEYS="$work/keys" "$lethe" workers | grep -c " busy " || true)
audit=$(python3 - "$work/state/state.sqlite" "${ids[@]}" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
missing = []
for job in sys.argv[2:]:
    actions = {a for (a,) in db.execute("SELECT action FROM audit WHERE job = ?", (job,))}
    needed = ["submit", "fetch result", "job succeeded"] if "job failed" not in actions else ["submit", "job failed"]
    missing += [f"{job}: {action}" for action in needed if action not in actions]
print(len(missing), "; ".join(missing[:5]))
EOF
)
restarts=$(grep -c restarted "$work/chaos.log" || true)
printf '{"jobs": %d, "expected_to_miss_targets": %d, "wrong_state_or_bits": %d, "workers_busy_after": %d, "audit_missing": %s, "worker_kills": %d, "coordinator_kills": 2, "seconds": %d}\n' \
    "$jobs_total" "$expected_failures" "$failures" "$busy" "${audit%% *}" "$restarts" "$seconds" | tee "$work/soak.json"
[ "$failures" = 0 ] && [ "$busy" = 0 ] && [ "${audit%% *}" = 0 ] || { echo "audit: $audit" >&2; exit 1; }
echo "soak passed"
