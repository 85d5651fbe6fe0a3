#!/bin/sh
# breakdown.sh BINARY PROFILE: the share of a pipeline CPU profile spent in
# each part, as BENCHMARKS.md reports it ("Where the time goes"). The parts
# are goroutine entry points, so they add up to about 100% with GC; the
# indented lines are parts of the line above.
#
#   go test -c -o /tmp/pb.test ./internal/pipelinebench/
#   (cd /tmp && /tmp/pb.test -test.run XXX -test.bench 'Orders/jsonl-jsonl$' \
#       -test.benchtime 10x -test.cpuprofile /tmp/jsonl.prof)
#   sh internal/pipelinebench/breakdown.sh /tmp/pb.test /tmp/jsonl.prof
set -eu
bin=$1 prof=$2

# share REGEX: percentage of all samples whose stack contains REGEX.
share() {
	go tool pprof -top -nodecount=1000000 -nodefraction=0 -focus="$1" "$bin" "$prof" 2>/dev/null |
		sed -n 's/^Showing nodes accounting for [^,]*, \([0-9.]*%\) of .* total$/\1/p'
}
# flat REGEX: percentage of samples whose innermost frame matches REGEX.
flat() {
	go tool pprof -top -nodecount=1000000 -nodefraction=0 "$bin" "$prof" 2>/dev/null |
		awk -v re="$1" '$6 ~ re { s += $2 } END { printf "%.2f%%\n", s }'
}

go tool pprof -top -nodecount=1 "$bin" "$prof" 2>/dev/null | sed -n 's/^Duration: /profile: /p'
printf '%-44s %s\n' \
	"reader (file source, decoding goroutines)" "$(share 'engine\.\(\*runner\)\.readSource|rowcodec\.\(\*Pipeline\)\.Start')" \
	"  read(2) of the input" "$(share 'os\.\(\*File\)\.Read$')" \
	"stages" "$(share 'engine\.\(\*runner\)\.runStage')" \
	"sink (runSink, encoding goroutines)" "$(share 'engine\.\(\*runner\)\.runSink|rowcodec\.\(\*Output\)\.Encode\.func')" \
	"  write(2) of the output" "$(share 'os\.\(\*File\)\.Write$')" \
	"GC in the background" "$(share 'runtime\.gcBgMarkWorker|runtime\.bgsweep|runtime\.bgscavenge')" \
	"GC assists (inside reader and sink)" "$(share 'runtime\.gcAssistAlloc')" \
	"engine code itself (flat)" "$(flat '^github.com/dataweaver/dataweaver/engine\.')" \
	"channels and scheduler (flat)" "$(flat '^runtime\.(chan|selectgo|schedule|findRunnable|park_m|gopark|goready|futex)')"
