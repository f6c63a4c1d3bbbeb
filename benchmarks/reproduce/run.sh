#!/usr/bin/env bash
# Runs the reproduction experiments of docs/results.md with the shipped LMs (models/), one by one, and appends one
# line per measurement to runs/repro/results.tsv: experiment, model (forward/backward/ensemble), test error, wall
# seconds of the fit, and the command. Usage (from the repository root, ../shared beside it):
#   benchmarks/reproduce/run.sh trec6 [sst2 mr trec6-ablations imdb-lm imdb-semi imdb-lowshot imdb-slice-ablations ...]
# (imdb-N-scratch, imdb-N-supervised and imdb-N-semi run one low-shot setting with N labels, imdb-N-no-lm-finetune,
# imdb-N-finetune-no-discr, imdb-N-finetune-no-stlr, imdb-N-full and imdb-N-last one row of imdb-slice-ablations; imdb-N-scratch-E trains
# the scratch baseline for E epochs instead of 5; NAME-unfreeze-all, for trec6, sst2, mr, imdb-semi and imdb-N-semi,
# trains every layer group from the first classifier epoch at --lr 2e-2 instead of unfreezing gradually; trec6-final-lr,
# sst2-final-lr, mr-final-lr and imdb-semi-final-lr unfreeze gradually but run the last stage at 5e-3 instead of 1e-3. The IMDb
# ensemble on all labels, one direction per core: imdb-lm-bwd, imdb-semi-bwd-unfreeze-all, then
# imdb-semi-ensemble-unfreeze-all next to imdb-semi-unfreeze-all's forward model.)
# trec6-seedN and trec6-no-lm-finetune-seedN repeat a forward TREC-6 run with seed N, trec6-ensemble-seedN the whole default
# job (both directions and their ensemble; trec6 itself is seed 42), trec6-no-lm-finetune-ensemble-seedN that job without
# LM fine-tuning. sst2-no-lm-finetune and mr-no-lm-finetune are the forward member of sst2 and mr without it.
# Each experiment's folder under runs/repro/ keeps the fit/evaluate JSON summaries and logs.
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$0")/../.."
DATA=../shared/data
OUT=${OUT:-runs/repro}           # another folder keeps a second set of runs apart (e.g. with ULMFIT_MODELS=DIR's LMs)
# FINAL_LR=1e-3 reproduces the rows measured before the eighth session, when gradual unfreezing's last stage ran at
# --lr/20 by default (fit's default since is --lr/4); it applies to the gradual runs that do not set --final-lr.
FINAL_LR=${FINAL_LR:-}
# CLI=... runs a copy of the build output, so that rebuilding while experiments run cannot change their binaries.
CLI=${CLI:-"dotnet src/Ulmfit.Cli/bin/Release/net10.0/linux-x64/Ulmfit.Cli.dll"}
THREADS=${THREADS:-2}          # two experiments side by side: THREADS=1 for each
IMDB_LM_TOKENS=${IMDB_LM_TOKENS:-3000000}  # LM fine-tuning tokens per epoch on IMDb (all 50k unlabelled reviews: ~15 M)
mkdir -p "$OUT"
[ -f "$OUT/results.tsv" ] || printf 'experiment\tmodel\ttest_error\tfit_seconds\tcommand\n' > "$OUT/results.tsv"
[ -n "${NO_BUILD:-}" ] || dotnet build src/Ulmfit.Cli -c Release -v q -nologo > /dev/null

# fit NAME TEST_CSV FIT_ARGS...: trains, then evaluates every direction that was trained and their ensemble.
fit() {
  local name=$1 test=$2; shift 2
  local dir="$OUT/$name"
  rm -rf "$dir"; mkdir -p "$dir"
  local start=$SECONDS final=()
  [[ -n $FINAL_LR && " $* " != *" --final-lr "* && " $* " != *" --unfreeze "* && " $* " != *" --from-scratch "* ]] && final=(--final-lr "$FINAL_LR")
  $CLI fit --out "$dir/model" --json "$dir/fit.json" --threads "$THREADS" "$@" "${final[@]}" > "$dir/fit.log" 2>&1
  local seconds=$((SECONDS - start))
  for member in forward backward ensemble; do
    local model="$dir/model/$member"
    [ "$member" = ensemble ] && model="$dir/model"
    [ -d "$model" ] || continue
    [ "$member" = ensemble ] && { [ ! -d "$dir/model/forward" ] || [ ! -d "$dir/model/backward" ]; } && continue
    $CLI evaluate --model "$model" --test "$test" --threads "$THREADS" ${EVAL_SAMPLE:+--sample $EVAL_SAMPLE} --json "$dir/eval-$member.json" > "$dir/eval-$member.log" 2>&1
    local error; error=$(python3 -c "import json,sys; print(round(100*json.load(open(sys.argv[1]))['error_rate'],2))" "$dir/eval-$member.json")
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$member" "$error" "$seconds" "ulmfit fit $* ${final[*]}" >> "$OUT/results.tsv"
    echo "$name $member: test error $error % (fit ${seconds}s)"
  done
}

# needs_imdb_lm EXPERIMENT [LM]: the semi-supervised runs classify on the LM that imdb-lm (or imdb-lm-bwd) fine-tuned
# on the unlabelled reviews. When another job is still running it (its folder exists), waits up to two hours for its
# summary, written last.
needs_imdb_lm() {
  local lm=${2:-imdb-lm}
  if [ -d "$OUT/$lm" ]; then for _ in $(seq 720); do [ -f "$OUT/$lm.json" ] && break; sleep 10; done; fi
  [ -f "$OUT/$lm.json" ] || { echo "$1 needs the LM of $lm: run 'run.sh $lm' first" >&2; exit 2; }
}

# ensemble NAME FORWARD_EXPERIMENT BACKWARD_EXPERIMENT TEST_CSV: scores the forward classifier of one experiment and
# the backward one of another (fit --backward-only) as one ensemble, through links to both in NAME's folder.
ensemble() {
  local name=$1 forward="$OUT/$2/model/forward" backward="$OUT/$3/model/backward" test=$4 dir="$OUT/$1"
  [ -d "$forward" ] && [ -d "$backward" ] || { echo "$name needs the forward model of $2 and the backward one of $3: run them first" >&2; exit 2; }
  rm -rf "$dir"; mkdir -p "$dir/model"
  ln -s "$(realpath "$forward")" "$dir/model/forward"
  ln -s "$(realpath "$backward")" "$dir/model/backward"
  $CLI evaluate --model "$dir/model" --test "$test" --threads "$THREADS" ${EVAL_SAMPLE:+--sample $EVAL_SAMPLE} --json "$dir/eval-ensemble.json" > "$dir/eval-ensemble.log" 2>&1
  local error; error=$(python3 -c "import json,sys; print(round(100*json.load(open(sys.argv[1]))['error_rate'],2))" "$dir/eval-ensemble.json")
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" ensemble "$error" 0 "ulmfit evaluate --model $dir/model (forward of $2, backward of $3)" >> "$OUT/results.tsv"
  echo "$name ensemble: test error $error %"
}

for experiment in "$@"; do
  # The classifier variant of the slice ablation's "full" (imdb-1000-full), applied to a whole experiment.
  all=(); [[ $experiment == *-unfreeze-all ]] && all=(--unfreeze all --lr 2e-2)
  # Gradual unfreezing with its last stage at the third stage's rate (5e-3) instead of --lr/20: between the two above.
  # (Since the eighth session fit's default is this, --lr/4, so NAME-final-lr and NAME now run the same classifier.)
  [[ $experiment == *-final-lr ]] && all=(--final-lr 5e-3)
  case $experiment in
    trec6|trec6-unfreeze-all|trec6-final-lr) fit "$experiment" $DATA/trec6/test.csv --train $DATA/trec6/train.csv "${all[@]}" ;;
    sst2|sst2-unfreeze-all|sst2-final-lr)   fit "$experiment" $DATA/sst2/test.csv --train $DATA/sst2/train.csv --valid $DATA/sst2/dev.csv "${all[@]}" ;;
    mr|mr-unfreeze-all|mr-final-lr)       fit "$experiment" $DATA/mr/test.csv --train $DATA/mr/train.csv "${all[@]}" ;;
    trec6-ablations)
      fit trec6-scratch $DATA/trec6/test.csv --train $DATA/trec6/train.csv --from-scratch --emb 128 --hidden 512 --layers 3 --epochs 5 --lr 4e-2
      fit trec6-no-lm-finetune $DATA/trec6/test.csv --train $DATA/trec6/train.csv --forward-only --lm-epochs 0
      fit trec6-finetune-no-discr $DATA/trec6/test.csv --train $DATA/trec6/train.csv --forward-only --lm-group-factor 1
      fit trec6-finetune-no-stlr $DATA/trec6/test.csv --train $DATA/trec6/train.csv --forward-only --lm-schedule constant
      fit trec6-full $DATA/trec6/test.csv --train $DATA/trec6/train.csv --forward-only --unfreeze all --lr 2e-2
      fit trec6-clf-discr $DATA/trec6/test.csv --train $DATA/trec6/train.csv --forward-only --unfreeze all --lr 2e-2 --group-factor 2.6
      fit trec6-last $DATA/trec6/test.csv --train $DATA/trec6/train.csv --forward-only --unfreeze last
      ;;
    trec6-seed[0-9]*)
      # Seed-to-seed spread of the forward default (the ablations above are single runs with seed 42).
      fit "$experiment" $DATA/trec6/test.csv --train $DATA/trec6/train.csv --forward-only --seed "${experiment#trec6-seed}" ;;
    trec6-ensemble-seed[0-9]*)
      # The same spread for the whole default job: both directions and their ensemble (trec6 is seed 42).
      fit "$experiment" $DATA/trec6/test.csv --train $DATA/trec6/train.csv --seed "${experiment#trec6-ensemble-seed}" ;;
    trec6-no-lm-finetune-ensemble-seed[0-9]*)
      fit "$experiment" $DATA/trec6/test.csv --train $DATA/trec6/train.csv --lm-epochs 0 --seed "${experiment#trec6-no-lm-finetune-ensemble-seed}" ;;
    trec6-no-lm-finetune-seed[0-9]*)
      fit "$experiment" $DATA/trec6/test.csv --train $DATA/trec6/train.csv --forward-only --lm-epochs 0 --seed "${experiment#trec6-no-lm-finetune-seed}" ;;
    imdb)
      # Score a stratified sample of the 25,000 test reviews with EVAL_SAMPLE=N when CPU time is short.
      fit imdb $DATA/imdb/test.csv.gz --train $DATA/imdb/train.csv.gz --unlabeled $DATA/imdb/unsup.csv.gz --forward-only --lm-max-tokens "$IMDB_LM_TOKENS" ;;
    imdb-semi|imdb-semi-final-lr)
      # All 25,000 labels on the LM of imdb-lm, five classifier epochs as in fastai's IMDb recipe (one per gradual stage,
      # then 2 with all). imdb-semi-final-lr runs that last stage at 5e-3 (the default since), imdb-semi at the default.
      needs_imdb_lm "$experiment"
      fit "$experiment" $DATA/imdb/test.csv.gz --train $DATA/imdb/train.csv.gz --forward-only --lm "$OUT/imdb-lm" --lm-epochs 0 --epochs 2 "${all[@]}" ;;
    imdb-semi-unfreeze-all)
      # Four epochs with everything training (3 + --epochs 1), one fewer than imdb-semi's five.
      needs_imdb_lm "$experiment"
      fit "$experiment" $DATA/imdb/test.csv.gz --train $DATA/imdb/train.csv.gz --forward-only --lm "$OUT/imdb-lm" --lm-epochs 0 --epochs 1 "${all[@]}" ;;
    imdb-slice-ablations)
      # The TREC-6 ablations on an IMDb slice of IMDB_SLICE labels (default 1,000): the base is imdb-N-supervised
      # (stage 2 on the slice's own text); no pretraining is imdb-N-scratch. Each row is imdb-N-ROW below.
      n=${IMDB_SLICE:-1000}
      NO_BUILD=1 "$self" "imdb-$n-no-lm-finetune" "imdb-$n-finetune-no-discr" "imdb-$n-finetune-no-stlr" "imdb-$n-full" "imdb-$n-last" ;;
    imdb-lm|imdb-lm-bwd)
      # Stage 2 once on the 50k unlabelled reviews, shared by the semi-supervised runs (imdb-lm-bwd: the backward LM).
      # IMDB_LM_VALID_PCT=0.02 validates on 1,000 reviews instead of 5,000 (the two validations took 45 min of imdb-lm).
      direction=fwd; [ "$experiment" = imdb-lm-bwd ] && direction=bwd
      source_lm=${ULMFIT_MODELS:-models}/en-wiki-$direction
      rm -rf "${OUT:?}/$experiment"
      $CLI finetune-lm --lm "$source_lm" --input $DATA/imdb/unsup.csv.gz --out "$OUT/$experiment" --epochs 1 --max-tokens "$IMDB_LM_TOKENS" \
        --valid-pct "${IMDB_LM_VALID_PCT:-0.1}" --threads "$THREADS" --json "$OUT/$experiment.json" > "$OUT/$experiment.log" 2>&1
      echo "$experiment: $(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('valid perplexity', round(d['valid_perplexity'],2), 'in', round(d['elapsed_s']), 's')" "$OUT/$experiment.json")" ;;
    imdb-semi-bwd)
      # The backward twin of imdb-semi (gradual unfreezing, the better recipe on all labels), on its own core.
      needs_imdb_lm "$experiment" imdb-lm-bwd
      fit "$experiment" $DATA/imdb/test.csv.gz --train $DATA/imdb/train.csv.gz --backward-only --backwards-lm "$OUT/imdb-lm-bwd" --lm-epochs 0 --epochs 2 ;;
    imdb-semi-ensemble)
      ensemble "$experiment" imdb-semi imdb-semi-bwd $DATA/imdb/test.csv.gz ;;
    imdb-semi-final-lr-ensemble)
      # imdb-semi-final-lr's forward classifier (last stage at 5e-3) with imdb-semi-bwd's backward one (1e-3).
      ensemble "$experiment" imdb-semi-final-lr imdb-semi-bwd $DATA/imdb/test.csv.gz ;;
    imdb-semi-bwd-unfreeze-all)
      # The backward twin of imdb-semi-unfreeze-all, on its own (fit --backward-only), so the two can run one per core.
      needs_imdb_lm "$experiment" imdb-lm-bwd
      fit "$experiment" $DATA/imdb/test.csv.gz --train $DATA/imdb/train.csv.gz --backward-only --backwards-lm "$OUT/imdb-lm-bwd" --lm-epochs 0 --epochs 1 "${all[@]}" ;;
    imdb-semi-ensemble-unfreeze-all)
      ensemble "$experiment" imdb-semi-unfreeze-all imdb-semi-bwd-unfreeze-all $DATA/imdb/test.csv.gz ;;
    sst2-forward) fit sst2-forward $DATA/sst2/test.csv --train $DATA/sst2/train.csv --valid $DATA/sst2/dev.csv --forward-only ;;
    mr-forward)   fit mr-forward $DATA/mr/test.csv --train $DATA/mr/train.csv --forward-only ;;
    sst2-no-lm-finetune) fit "$experiment" $DATA/sst2/test.csv --train $DATA/sst2/train.csv --valid $DATA/sst2/dev.csv --forward-only --lm-epochs 0 ;;
    mr-no-lm-finetune)   fit "$experiment" $DATA/mr/test.csv --train $DATA/mr/train.csv --forward-only --lm-epochs 0 ;;
    imdb-[0-9]*-scratch)
      n=${experiment#imdb-}; n=${n%-scratch}
      fit "$experiment" $DATA/imdb/test.csv.gz --train $DATA/imdb/train.csv.gz --train-sample "$n" --from-scratch --emb 128 --hidden 512 --layers 3 --epochs 5 --lr 4e-2 ;;
    imdb-[0-9]*-scratch-[0-9]*)
      # The scratch baseline with more epochs (imdb-1000-scratch-30: 1,000 labels, 30 epochs).
      n=${experiment#imdb-}; epochs=${n##*-}; n=${n%%-*}
      fit "$experiment" $DATA/imdb/test.csv.gz --train $DATA/imdb/train.csv.gz --train-sample "$n" --from-scratch --emb 128 --hidden 512 --layers 3 --epochs "$epochs" --lr 4e-2 ;;
    imdb-[0-9]*-supervised-seed[0-9]*)
      # Seed-to-seed spread of the low-shot supervised setting (imdb-1000-supervised-seed1).
      n=${experiment#imdb-}; seed=${n##*-seed}; n=${n%%-*}
      fit "$experiment" $DATA/imdb/test.csv.gz --train $DATA/imdb/train.csv.gz --train-sample "$n" --forward-only --seed "$seed" ;;
    imdb-[0-9]*-no-lm-finetune|imdb-[0-9]*-finetune-no-discr|imdb-[0-9]*-finetune-no-stlr|imdb-[0-9]*-full|imdb-[0-9]*-last)
      # One row of imdb-slice-ablations with N labels (imdb-1000-full): imdb-N-supervised with one thing changed.
      n=${experiment#imdb-}; row=${n#*-}; n=${n%%-*}
      case $row in
        no-lm-finetune)    change=(--lm-epochs 0) ;;
        finetune-no-discr) change=(--lm-group-factor 1) ;;
        finetune-no-stlr)  change=(--lm-schedule constant) ;;
        full)              change=(--unfreeze all --lr 2e-2) ;;
        last)              change=(--unfreeze last) ;;
      esac
      fit "$experiment" $DATA/imdb/test.csv.gz --train $DATA/imdb/train.csv.gz --train-sample "$n" --forward-only "${change[@]}" ;;
    imdb-[0-9]*-supervised)
      n=${experiment#imdb-}; n=${n%-supervised}
      fit "$experiment" $DATA/imdb/test.csv.gz --train $DATA/imdb/train.csv.gz --train-sample "$n" --forward-only ;;
    imdb-[0-9]*-semi)
      # semi-supervised: the LM fine-tuned on the unlabelled reviews (run imdb-lm first)
      n=${experiment#imdb-}; n=${n%-semi}
      needs_imdb_lm "$experiment"
      fit "$experiment" $DATA/imdb/test.csv.gz --train $DATA/imdb/train.csv.gz --train-sample "$n" --forward-only --lm "$OUT/imdb-lm" --lm-epochs 0 ;;
    imdb-[0-9]*-semi-unfreeze-all)
      n=${experiment#imdb-}; n=${n%%-*}
      needs_imdb_lm "$experiment"
      fit "$experiment" $DATA/imdb/test.csv.gz --train $DATA/imdb/train.csv.gz --train-sample "$n" --forward-only --lm "$OUT/imdb-lm" --lm-epochs 0 "${all[@]}" ;;
    imdb-lowshot)
      for n in 100 500 1000; do NO_BUILD=1 "$self" "imdb-$n-scratch" "imdb-$n-supervised" "imdb-$n-semi"; done ;;
    *) echo "unknown experiment '$experiment'" >&2; exit 2 ;;
  esac
done
