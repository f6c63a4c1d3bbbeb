#!/usr/bin/env bash
# The low-shot benchmark: `ulmfit fit` on its defaults with N labelled documents against ML.NET's default text
# classifier (benchmarks/Ulmfit.Benchmarks mlnet-baseline) trained on the very same N documents, both scored on the
# same test documents, for every data set x label count x seed. Each cell's JSON summaries go to
# $OUT/DATASET-N-seedS/; a run that is stopped resumes where it left off (finished cells are skipped). The table
# (mean ± standard deviation over seeds, and the difference) is written to $OUT/lowshot.md and printed.
# Usage, from the repository root with ../shared beside it:
#   benchmarks/lowshot/run.sh                       # every data set, 50/100/300/1000 labels, seeds 42 1 2
#   DATASETS="imdb trec6" SIZES="100 1000" SEEDS=42 FIT_ARGS=--forward-only benchmarks/lowshot/run.sh
# IMDb's test set is scored on a 2,000-review stratified sample (IMDB_TEST_SAMPLE), the others whole.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/data}
OUT=${OUT:-../runs/lowshot}
DATASETS=${DATASETS:-"imdb sst2 mr trec6 mpqa"}
SIZES=${SIZES:-"50 100 300 1000"}
SEEDS=${SEEDS:-"42 1 2"}
THREADS=${THREADS:-2}
FIT_ARGS=${FIT_ARGS:-}            # e.g. --forward-only; recorded in every line
IMDB_TEST_SAMPLE=${IMDB_TEST_SAMPLE:-2000}
CLI=${CLI:-"dotnet src/Ulmfit.Cli/bin/Release/net10.0/linux-x64/Ulmfit.Cli.dll"}
BENCH=${BENCH:-"dotnet benchmarks/Ulmfit.Benchmarks/bin/Release/net10.0/linux-x64/Ulmfit.Benchmarks.dll"}
[ -d "$DATA" ] || { echo "lowshot: no data folder $DATA (the shared data sets)" >&2; exit 2; }
if [ -z "${NO_BUILD:-}" ]; then
  dotnet build src/Ulmfit.Cli -c Release -v q -nologo > /dev/null
  dotnet build benchmarks/Ulmfit.Benchmarks -c Release -v q -nologo > /dev/null
fi
mkdir -p "$OUT"

files() { # DATASET -> "TRAIN TEST"
  case $1 in
    imdb) echo "$DATA/imdb/train.csv.gz $DATA/imdb/test.csv.gz" ;;
    *)    echo "$DATA/$1/train.csv $DATA/$1/test.csv" ;;
  esac
}

# Each cell's folder DATASET-N-seedS holds baseline.json, fit.json and eval.json (written last, so a cell with it is
# finished), both sides' per-document probabilities (baseline-predictions.csv, predictions.csv: the same documents in
# the same order) and the logs; the table is read from these folders.
for dataset in $DATASETS; do
  read -r train test <<< "$(files "$dataset")"
  sample=(); [ "$dataset" = imdb ] && sample=(--sample "$IMDB_TEST_SAMPLE")
  for n in $SIZES; do
    for seed in $SEEDS; do
      dir="$OUT/$dataset-$n-seed$seed"
      mkdir -p "$dir"
      if [ ! -f "$dir/baseline.json" ]; then
        $BENCH mlnet-baseline --train "$train" --test "$test" --train-sample "$n" --seed "$seed" \
          ${sample:+--test-sample "${sample[1]}"} --predictions "$dir/baseline-predictions.csv" > "$dir/baseline.json.tmp" && mv "$dir/baseline.json.tmp" "$dir/baseline.json"
      fi
      if [ ! -f "$dir/eval.json" ]; then
        rm -rf "$dir/model"
        start=$SECONDS
        # shellcheck disable=SC2086  # FIT_ARGS is a list of flags
        $CLI fit --train "$train" --train-sample "$n" --seed "$seed" --out "$dir/model" --json "$dir/fit.json" --threads "$THREADS" $FIT_ARGS > "$dir/fit.log" 2>&1
        echo "$((SECONDS - start))" > "$dir/fit-seconds"
        echo "$FIT_ARGS" > "$dir/fit-args"
        $CLI evaluate --model "$dir/model" --test "$test" --seed "$seed" "${sample[@]}" --threads "$THREADS" --predictions "$dir/predictions.csv" --json "$dir/eval.json" > "$dir/eval.log" 2>&1
        rm -rf "$dir/model/lm-forward" "$dir/model/lm-backward" "$dir/model/token-cache"   # gigabytes over a whole grid
      fi
      echo "$dataset $n labels seed $seed: ulmfit $(grep -o '"error_rate":[^,}]*' "$dir/eval.json"), ml.net $(grep -o '"error_rate":[^,}]*' "$dir/baseline.json")"
    done
  done
done
$BENCH lowshot-table --dir "$OUT" --out "$OUT/lowshot.md"
cat "$OUT/lowshot.md"
