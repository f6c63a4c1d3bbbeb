#!/usr/bin/env bash
# Full-size classifier inference (vocabulary 60,000, emb 400, AWD-LSTM 1152/3) side by side with the PyTorch peer's
# fp32, for every int8 path this CPU runs (pinned with ULMFIT_INT8_PATH) and for our fp32, at TREC length (16 tokens,
# batch 256) and IMDb length (256 tokens, batch 64). Each line is one `Ulmfit.Benchmarks compare` run, peer and ours in
# the same run; its JSON carries cpu_isa, int8_path and the peer's OpenBLAS core type. Stop training jobs first
# (SIGSTOP): the machine must be quiet. One JSON line per run on stdout and in $OUT.
# Usage, from the repository root:  benchmarks/int8/run.sh    (THREADS=2 ROUNDS=1 OUT=../runs/int8-bench.jsonl)
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-1}
OUT=${OUT:-../runs/int8-bench.jsonl}
BENCH=${BENCH:-"dotnet benchmarks/Ulmfit.Benchmarks/bin/Release/net10.0/linux-x64/Ulmfit.Benchmarks.dll"}
[ -n "${NO_BUILD:-}" ] || dotnet build benchmarks/Ulmfit.Benchmarks -c Release -v q -nologo > /dev/null
flags=$(grep -m1 '^flags' /proc/cpuinfo)
paths=""
has() { [[ " $flags " == *" $1 "* ]]; }
has avx512_vnni && has avx512bw && has avx512vl && has avx512dq && paths="$paths avx512-vnni"
has avx2 && has fma && has avx_vnni && paths="$paths avx-vnni"
has avx2 && has fma && paths="$paths avx2"
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
for round in $(seq "$ROUNDS"); do
  for shape in "--seq-len 16 --bs 256 --steps 10 --warmup 2" "--seq-len 256 --bs 64 --steps 3 --warmup 1"; do
    for path in $paths fp32; do
      if [ "$path" = fp32 ]; then
        line=$($BENCH compare --mode clf-infer $shape --dtype fp32 --peer-dtype fp32 --threads "$THREADS" | tail -1)
      else
        line=$(ULMFIT_INT8_PATH=$path $BENCH compare --mode clf-infer $shape --dtype int8 --peer-dtype fp32 --threads "$THREADS" | tail -1)
      fi
      echo "$line" | tee -a "$OUT"
    done
  done
done
