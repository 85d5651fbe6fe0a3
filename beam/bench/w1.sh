#!/usr/bin/env bash
# W1 on Beam (weave-beam, Prism in its own process, loopback workers)
# against weave run on the same pipeline, same input, same C guests, in
# alternating order, ROUNDS rounds. Two inputs: the 1M-row orders file as
# one file (one split) and as four files of 250k rows (four splits).
# Prints wall s, CPU s (user+sys) and peak RSS per run, then the medians
# and the per-round ratio of CPU and of wall, Beam over weave run.
#
#   beam/bench/w1.sh [ROWS] [ROUNDS]      # from the repository root
set -euo pipefail
rows=${1:-1000000}
rounds=${2:-5}
root=$(pwd)
w=$(mktemp -d /tmp/weave-beam-bench.XXXXXX)
trap 'rm -rf "$w"' EXIT
go build -o "$w/weave" ./cmd/weave
(cd beam && go build -o "$w/weave-beam" ./cmd/weave-beam)
mkdir -p "$w/wasm" "$w/one" "$w/four"
for m in filter mask derive; do cp "transforms/c/$m/$m.wasm" "$w/wasm/"; done
gen() { # rows seed path
	printf 'name: gen\nsource:\n  generate: {preset: orders, rows: %d, seed: %d}\nsinks:\n  - file: {path: %q}\n' "$1" "$2" "$3" > "$w/gen.yaml"
	"$w/weave" run --state "$w/state" "$w/gen.yaml" >/dev/null 2>&1
	rm -rf "$w/state"
}
gen "$rows" 42 "$w/one/orders.jsonl"
for i in 1 2 3 4; do gen $((rows / 4)) "$i" "$w/four/orders-$i.jsonl"; done
set_for() { # input out
	echo "--set=source.file={path: \"$1\"}"
	echo "--set=sinks[0].file={path: \"$2/\", format: jsonl}"
}
one() { # label input
	local out="$w/out-$1" t
	rm -rf "$out"
	mapfile -t sets < <(set_for "$2" "$out")
	case $1 in
	weave*) /usr/bin/time -o "$w/t" -f '%e %U %S %M' env WASM="$w/wasm" "$w/weave" run --state "$w/st" "${sets[@]}" testdata/pipelines/wasm_orders.yaml >/dev/null 2>&1 ;;
	beam*) /usr/bin/time -o "$w/t" -f '%e %U %S %M' env WASM="$w/wasm" "$w/weave-beam" "${sets[@]}" run testdata/pipelines/wasm_orders.yaml >/dev/null 2>&1 ;;
	esac
	t=$(tail -1 "$w/t")
	rm -rf "$w/st"
	local n
	n=$(cat "$out"/* | wc -l)
	read -r wall user sys rss <<<"$t"
	printf '%-12s wall %6.2f  cpu %6.2f  rss %5d MiB  rows out %d\n' "$1" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" $((rss / 1024)) "$n"
}
echo "W1 on Beam (Prism, in process) against weave run: $rows rows, C guests, $rounds rounds, $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
	echo "== round $r"
	if ((r % 2)); then order="weave beam"; else order="beam weave"; fi
	for input in one four; do
		for who in $order; do
			if [ $input = one ]; then one "$who-1file" "$w/one/orders.jsonl"; else one "$who-4files" "$w/four/*.jsonl"; fi
		done
	done
done | tee "$w/log"
echo "== medians"
for k in weave-1file beam-1file weave-4files beam-4files; do
	awk -v k="$k" '$1 == k {print $3, $5, $7}' "$w/log" | sort -n | awk -v k="$k" '{w[NR]=$1} END {printf "%-12s wall median %.2f\n", k, w[int((NR+1)/2)]}'
	awk -v k="$k" '$1 == k {print $5}' "$w/log" | sort -n | awk -v k="$k" '{c[NR]=$1} END {printf "%-12s cpu median %.2f\n", k, c[int((NR+1)/2)]}'
done
