#!/usr/bin/env bash
# Tunes a method's defaults on the validation split (never the test set): runs `lethe unlearn` once per
# parameter set on seed 1's original from scripts/results.sh and prints the validation accuracies (and the
# forget set's, which for a random subset should end near the validation accuracy, not at zero).
#   scripts/tune.sh METHOD SCENARIO 'k=v,k=v' ['k=v,...' ...]      (SCENARIO: class0, classes06 or random10)
# Resumable: finished runs (their JSON reports under out/tune) are kept. OUT=dir overrides out/tune.
set -euo pipefail
cd "$(dirname "$0")/.."
method=$1 scenario=$2
shift 2
out=${OUT:-out/tune}
original=out/results/original-1.safetensors
[ -f "$original" ] || { echo "error: $original is missing; run scripts/results.sh first" >&2; exit 1; }
case $scenario in
class0) selection=(--forget-classes 0) ;;
classes06) selection=(--forget-classes 0,6) ;;
random10) selection=(--forget-fraction 0.1) ;;
*) echo "error: unknown scenario $scenario" >&2; exit 2 ;;
esac
mkdir -p "$out"
swift build -c release --product lethe >&2
reports=()
for params in "$@"; do
    report=$out/$scenario-$method-${params//[=,]/_}.json
    reports+=("$params" "$report")
    [ -f "$report" ] && continue
    .build/release/lethe unlearn --method "$method" --weights "$original" "${selection[@]}" --seed 1 \
        --param "$params" --out "$out/last.safetensors" --report "$report.partial" >&2 ||
        [ -f "$report.partial" ]  # a run that misses its targets (exit 1) still reports where it landed
    mv "$report.partial" "$report"
done
python3 - "${reports[@]}" <<'PY'
import json, sys
def percent(value):
    return "–" if value is None else f"{100 * value:.1f}"
columns = ["forget set", "val forgotten", "val other", "val all", "seconds"]
print(f"{'params':<40}" + "".join(f"{c:>14}" for c in columns))
for params, path in zip(sys.argv[1::2], sys.argv[2::2]):
    report = json.load(open(path))
    after = report["after"]
    values = [percent(after["forget_accuracy"]), percent(after.get("validation_forget_accuracy")),
              percent(after.get("validation_retain_accuracy")), percent(after["validation_accuracy"]),
              f"{report['seconds']:.1f}"]
    print(f"{params:<40}" + "".join(f"{v:>14}" for v in values))
PY
