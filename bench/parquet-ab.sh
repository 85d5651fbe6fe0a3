#!/bin/sh
# Interleaved A/B of weave binaries on the Parquet paths of issue 16:
#   w2      1M orders Parquet -> filter -> filter -> mask -> derive (Go guests) -> Parquet
#   none    the same file Parquet -> Parquet, no stages
# Usage: bench/parquet-ab.sh ROUNDS WASMDIR LABEL=WEAVE [LABEL=WEAVE ...]
# WASMDIR holds filter.wasm, mask.wasm, derive.wasm (weave build transforms/X -o WASMDIR/X.wasm).
# The input is written once by the first binary (generate preset orders, seed 42,
# 65,536-row batches), the figures are wall s, user+sys CPU s and peak RSS of each
# whole weave process (/usr/bin/time), one line per run, binaries alternating.
set -eu
rounds=$1 wasm=$2; shift 2
dir=$(mktemp -d /tmp/parquet-ab.XXXXXX)
trap 'rm -rf "$dir"' EXIT
first=${1#*=}
cat >"$dir/gen.yaml" <<Y
name: gen
source: {generate: {preset: orders, rows: 1000000, seed: 42}}
sinks: [{file: {path: $dir/orders.parquet}}]
batch: {rows: 65536}
Y
cat >"$dir/none.yaml" <<Y
name: none
source: {file: $dir/orders.parquet}
sinks: [{file: $dir/out-none.parquet}]
Y
cat >"$dir/w2.yaml" <<Y
name: w2
source: {file: $dir/orders.parquet}
stages:
  - wasm: {path: $wasm/filter.wasm, config: {column: amount, op: ">=", value: 0}}
  - wasm: {path: $wasm/filter.wasm, config: {column: country, op: "!=", value: XX}}
  - wasm: {path: $wasm/mask.wasm, config: {columns: [email]}}
  - wasm: $wasm/derive.wasm
sinks: [{file: $dir/out-w2.parquet}]
Y
"$first" run --from-start --state "$dir/state" "$dir/gen.yaml" >/dev/null 2>&1
sync
echo "# $(date -u +%FT%TZ) $(go version 2>/dev/null || true) nproc=$(nproc) load: $(cat /proc/loadavg)"
echo "# job label round wall_s cpu_s maxrss_kb rows_out"
for job in none w2; do
  for l in "$@"; do # one warm-up run each: compile cache, page cache
    "${l#*=}" run --from-start --state "$dir/state" "$dir/$job.yaml" >/dev/null 2>&1
  done
  r=1
  while [ $r -le "$rounds" ]; do
    for l in "$@"; do
      label=${l%%=*} bin=${l#*=}
      /usr/bin/time -f '%e %U %S %M' -o "$dir/time" "$bin" run --from-start --state "$dir/state" "$dir/$job.yaml" 2>"$dir/err" >/dev/null
      out=$(grep -E 'sinks\[0\]' "$dir/err" | awk '{print $4}')
      read -r wall u s rss <"$dir/time"
      echo "$job $label $r $wall $(echo "$u + $s" | bc) $rss $out"
    done
    r=$((r + 1))
  done
done
echo "# $(date -u +%FT%TZ) load: $(cat /proc/loadavg)"
