#!/usr/bin/env bash
# The `ulmfit serve` load test: starts the server on a trained classifier and drives POST /v1/classify from wrk on
# loopback, one text a request (the test texts of $TEXTS, cycled), at 1, 4, 16 and 64 concurrent connections for
# $DURATION each; next to it, offline `ulmfit evaluate` docs/s on the same texts and thread count. Memory: the
# server's RSS after 1,000 requests, after the load levels, and every quarter of the way to 100,000 ($TOTAL). One
# JSON line per measurement on stdout and in $OUT/results.jsonl.
# Usage, from the repository root (a TREC-6 model: `ulmfit fit --train ../shared/data/trec6/train.csv --out
# ../runs/serve-model --forward-only --lm-epochs 0 --threads 1`):
#   benchmarks/serve/run.sh                                   # MODEL=../runs/serve-model, server on 1 thread
#   MODEL=DIR TEXTS=test.csv THREADS=1 DURATION=10s TOTAL=100000 OUT=../runs/serve-bench benchmarks/serve/run.sh
# Needs wrk (Debian: apt-get install -y wrk; installed here when missing and running as root) and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${MODEL:-../runs/serve-model}
TEXTS=${TEXTS:-../shared/data/trec6/test.csv}
THREADS=${THREADS:-1}            # the server's compute threads (and evaluate's)
DURATION=${DURATION:-10s}        # per concurrency level
LEVELS=${LEVELS:-"1 4 16 64"}
TOTAL=${TOTAL:-100000}           # requests before the second memory reading
PORT=${PORT:-0}
SERVE_ARGS=${SERVE_ARGS:-}       # e.g. "--max-batch 32 --max-delay-ms 2"
OUT=${OUT:-../runs/serve-bench}
CLI=${CLI:-"dotnet src/Ulmfit.Cli/bin/Release/net10.0/linux-x64/Ulmfit.Cli.dll"}
[ -e "$MODEL" ] || { echo "serve bench: no model $MODEL (see the usage above)" >&2; exit 2; }
[ -f "$TEXTS" ] || { echo "serve bench: no texts $TEXTS" >&2; exit 2; }
if ! command -v wrk > /dev/null; then
  [ "$(id -u)" = 0 ] || { echo "serve bench: needs wrk (apt-get install -y wrk)" >&2; exit 2; }
  apt-get install -y wrk > /dev/null 2>&1 || { apt-get update > /dev/null && apt-get install -y wrk > /dev/null; }
fi
[ -n "${NO_BUILD:-}" ] || dotnet build src/Ulmfit.Cli -c Release -v q -nologo > /dev/null
mkdir -p "$OUT"
: > "$OUT/results.jsonl"
emit() { echo "$1" | tee -a "$OUT/results.jsonl"; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')

# One request body per test text: {"texts": [TEXT]}.
BODIES="$OUT/bodies.jsonl"
python3 - "$TEXTS" "$BODIES" <<'PY'
import csv, json, sys
with open(sys.argv[1], newline='', encoding='utf-8') as f, open(sys.argv[2], 'w', encoding='utf-8') as out:
    for row in csv.DictReader(f):
        out.write(json.dumps({"texts": [row["text"]]}, ensure_ascii=False) + "\n")
PY
export BODIES

# Offline: the same texts in one batched call.
$CLI evaluate --model "$MODEL" --test "$TEXTS" --threads "$THREADS" --json "$OUT/evaluate.json" --confusion-png "$OUT/confusion.png" > "$OUT/evaluate.log" 2>&1
offline=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['documents_per_s'])" "$OUT/evaluate.json")
emit "{\"bench\": \"offline_evaluate\", \"docs_per_s\": $offline, \"threads\": $THREADS, \"cpu\": \"$cpu\"}"

# The server, on its own thread budget; wrk takes the other core(s).
$CLI serve --model "$MODEL" --port "$PORT" --threads "$THREADS" $SERVE_ARGS > "$OUT/serve.out" 2> "$OUT/serve.err" &
server=$!
trap 'kill -TERM $server 2> /dev/null || true' EXIT
for _ in $(seq 1 240); do grep -q '^listening on ' "$OUT/serve.out" 2> /dev/null && break; sleep 0.5; done
url=$(sed -n 's/^listening on //p' "$OUT/serve.out")
[ -n "$url" ] || { echo "serve bench: the server did not start: $(tail -3 "$OUT/serve.err")" >&2; exit 1; }
# What the server computes with (dtype, int8 path), from its own GET /v1/model.
emit "$(python3 -c "import json,sys,urllib.request; m=json.load(urllib.request.urlopen(sys.argv[1] + '/v1/model')); print(json.dumps({'bench': 'serve_model', **{k: m.get(k) for k in ('dtype', 'int8_path')}}))" "$url")"
rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$server/status"; }
served=0 line=
# wrk_run CONNECTIONS DURATION [LIMIT]: sets $line to wrk's JSON line, and adds its requests to $served
wrk_run() {
  local threads=$(( $1 < 2 ? 1 : 2 )) marks="$OUT/marks"
  rm -rf "$marks"; mkdir -p "$marks"
  LIMIT=${3:-0} MARKS=$marks wrk -t "$threads" -c "$1" -d "$2" --timeout 10s -s benchmarks/serve/classify.lua "$url" > "$OUT/wrk.out" &
  local load=$!
  if [ -n "${3:-}" ]; then
    # wrk runs for its whole -d even when every thread has stopped: interrupt it then (it reports as usual).
    while kill -0 $load 2> /dev/null && [ "$(ls "$marks" | wc -l)" -lt "$threads" ]; do sleep 0.2; done
    kill -INT $load 2> /dev/null || true
  fi
  wait $load
  line=$(tail -1 "$OUT/wrk.out")
  served=$(( served + $(python3 -c "import json,sys; print(json.loads(sys.argv[1])['requests'])" "$line") ))
}
# {"bench": ...} + wrk's line
merged() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); d.update(json.loads(sys.argv[2])); print(json.dumps(d))" "$1" "$line"; }

rss() { emit "{\"bench\": \"serve_rss\", \"after_requests\": $served, \"rss_mb\": $(rss_mb)}"; }

# Memory after the first 1,000 requests (2 wrk threads x 500), which also warm the server up. At 64 connections, so
# they make batches as large as any later load does: the CLI runs under jemalloc set never to return freed pages
# (NativeAllocator), so the resident set holds the peak of the largest batch seen, and a warm-up of small batches
# only would show later growth that is no leak.
wrk_run 64 120s 500
rss

for c in $LEVELS; do
  wrk_run "$c" "$DURATION"
  ratio=$(python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['requests_per_s'] / float(sys.argv[2]), 3))" "$line" "$offline")
  emit "$(merged "{\"bench\": \"serve_load\", \"connections\": $c, \"texts_per_request\": 1, \"server_threads\": $THREADS, \"of_offline_docs_per_s\": $ratio}")"
done

rss

# On to $TOTAL requests in all (16 connections), memory read every quarter of the way: growth that goes on is a
# leak, a step that stays is a peak held.
quarter=$(( TOTAL / 4 ))
for goal in $quarter $(( 2 * quarter )) $(( 3 * quarter )) $TOTAL; do
  left=$(( goal - served ))
  [ "$left" -le 0 ] && continue
  wrk_run 16 3600s $(( (left + 1) / 2 ))
  rss
done

# Graceful stop: SIGTERM drains and exits 0.
trap - EXIT
kill -TERM $server
code=0; wait $server || code=$?
emit "{\"bench\": \"serve_stop\", \"exit_code\": $code, \"summary\": \"$(tail -1 "$OUT/serve.err")\"}"
