#!/usr/bin/env bash
# docs/RESULTS.md's regression table (issue 18, part 2): fashion-mnist-rotation (predict the rotation angle / 60
# of real FashionMNIST images), forget every training sample rotated by 30° to 60° (targets 0.5...1), on
# fmnist-cnn:regression=1; per seed the original, its retrain, and finetune, neggrad+, gaussian and blindspot,
# each judged against the retrain. Resumable (finished reports are kept); one job at a time.
#   scripts/regression_results.sh [OUT_DIR]     (default: out/regression; SEEDS="1 2 3", METHODS=..., EPOCHS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/regression}
seeds=${SEEDS:-"1 2 3"}
methods=${METHODS:-"finetune neggrad+ gaussian blindspot"}
epochs=${EPOCHS:-3}
model=fmnist-cnn:regression=1
data=fashion-mnist-rotation
forget=(--forget-targets 0.5...1)
mkdir -p "$out"
[ -n "${LETHE:-}" ] || swift build -c release --product lethe >&2
lethe=${LETHE:-.build/release/lethe}

for seed in $seeds; do
    original=$out/original-$seed.safetensors
    [ -f "$original" ] || $lethe train --model $model --data $data --epochs "$epochs" --seed "$seed" --out "$original" >&2
    for method in retrain $methods; do
        report=$out/$method-$seed.json
        [ -f "$report" ] && continue
        reference=()
        [ "$method" != retrain ] && reference=(--reference "$out/retrain-$seed.safetensors")
        if $lethe unlearn --method "$method" --model $model --data $data --weights "$original" "${forget[@]}" \
            --seed "$seed" "${reference[@]}" --out "$out/$method-$seed.safetensors" --report "$report.partial" \
            --keep-failed 2> >(tee "$out/$method-$seed.log" >&2); then
            mv "$report.partial" "$report"
        else
            echo "$method seed $seed failed: $(tail -1 "$out/$method-$seed.log")" >&2
            [ -f "$report.partial" ] && mv "$report.partial" "$report"
        fi
    done
done
$lethe summarize "$out"/*.json
