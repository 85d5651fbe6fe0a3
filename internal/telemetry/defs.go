package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Label names. pipeline and step are on every per-step series from the
// start, so several pipelines in one process never need a migration.
const (
	labelPipeline = "pipeline"
	labelStep     = "step"
	labelKind     = "kind"
	labelPhase    = "phase"
	labelState    = "state"
	labelCode     = "code"
	labelReason   = "reason"
)

// Definition describes one metric: the collector's description and a row
// of docs/metrics.md come from it.
type Definition struct {
	Name   string
	Type   string // counter, gauge or histogram
	Labels []string
	Help   string
	// Note is extra documentation for docs/metrics.md (not sent to Prometheus).
	Note string
}

func (d Definition) desc() *prometheus.Desc {
	return prometheus.NewDesc(d.Name, d.Help, d.Labels, nil)
}

var (
	stepLabels     = []string{labelPipeline, labelStep, labelKind}
	stepOnly       = []string{labelPipeline, labelStep}
	pipelineLabels = []string{labelPipeline}
)

// The metrics, in the order docs/metrics.md lists them.
var (
	defRowsIn = Definition{"weave_rows_in_total", "counter", stepLabels,
		"Rows that reached the step; for a source, rows read including those that failed to decode.", ""}
	defRowsOut = Definition{"weave_rows_out_total", "counter", stepLabels,
		"Rows the step passed on (a sink: rows written).", ""}
	defSkipped = Definition{"weave_rows_skipped_total", "counter", stepLabels,
		"Rows the step rejected and dropped (the skip policy).", ""}
	defDeadLettered = Definition{"weave_rows_dead_lettered_total", "counter", stepLabels,
		"Rows the step rejected and sent to the dead-letter sink (the dead_letter policy).", ""}
	defBatches = Definition{"weave_batches_total", "counter", stepLabels,
		"Batches the step handled.", "The dead-letter sink is the step `dead_letter` of kind `sink`."}
	defBatchDuration = Definition{"weave_batch_duration_seconds", "histogram", stepLabels,
		"Time the step spent on one batch: a source's read, a stage's process call, a sink's write with its retries.",
		"Observed once per batch, so its `_count` equals `weave_batches_total`. A source's read includes waiting for input (a paced or idle source)."}
	defSourceBytes = Definition{"weave_source_bytes_total", "counter", stepOnly,
		"Input bytes the source read (compressed bytes for a compressed file).", ""}
	defSourceRemaining = Definition{"weave_source_remaining_bytes", "gauge", stepOnly,
		"Input bytes the source has not read yet.", "Only for sources that know their size (files, not stdin)."}
	defSourceLag = Definition{"weave_source_lag_messages", "gauge", stepOnly,
		"Messages the broker holds beyond what the source has read.", "Reported by the NATS JetStream source (its consumer's pending count as of the last fetch) and the Kafka source (the group's lag on the partitions this member owns, as of the last records polled from each; a partition not polled yet is not counted)."}
	defSourceRequests = Definition{"weave_source_requests_total", "counter", []string{labelPipeline, labelStep, labelCode},
		"Requests a source that takes requests answered, by HTTP status code.",
		"Reported by the `http` source: `code=\"200\"` once every sink flushed the request's rows. A request whose client left before its reply is not counted."}
	defSourceRefused = Definition{"weave_source_requests_refused_total", "counter", []string{labelPipeline, labelStep, labelReason},
		"Requests a source that takes requests refused, by reason.",
		"Reported by the `http` source. `reason` is one of `unauthorized` (401), `not_found` (404), `method` (405), `media_type` (415: Content-Type or Content-Encoding), " +
			"`too_large` (413: max_body_bytes, as sent or inflated), `timeout` (408: read_timeout), `bad_request` (400), " +
			"`busy` (503: no place in max_pending_requests or not taken within max_wait; the pipeline is the bottleneck) and `stopping` (503: the pipeline is stopping or the input ended)."}
	defSourceRequestBytes = Definition{"weave_source_request_body_bytes_total", "counter", stepOnly,
		"Request body bytes a source that takes requests received, refused requests included.",
		"Reported by the `http` source; bytes as sent (compressed for a gzipped body)."}
	defSinkRetries = Definition{"weave_sink_retries_total", "counter", stepOnly,
		"Sink writes and flushes tried again after a failure.", "The engine's retries (a sink step's `retry`) plus those a sink makes on its own and reports (the `nats` sink through an outage); retries inside the Kafka, Postgres and HTTP clients are not seen."}
	defQueue = Definition{"weave_queue_batches", "gauge", stepOnly,
		"Batches waiting in the queue in front of the step.",
		"`step=\"fan_out\"` is the queue between the last stage and the hand-over to every sink's own queue. A full queue in front of a step makes that step the bottleneck."}
	defQueueCap = Definition{"weave_queue_capacity_batches", "gauge", stepOnly,
		"How many batches the queue in front of the step holds (the pipeline's buffer).", ""}
	defWasmCall = Definition{"weave_wasm_call_duration_seconds", "histogram", stepOnly,
		"Time of each guest call that processes a batch (dw_process), for stages running a Wasm module.", ""}
	defWasmTraps = Definition{"weave_wasm_traps_total", "counter", stepOnly,
		"Guest calls that trapped, panicked, exited or ran out of memory.", ""}
	defWasmTimeouts = Definition{"weave_wasm_timeouts_total", "counter", stepOnly,
		"Guest calls stopped at the stage's timeout.", ""}
	defWasmReplaced = Definition{"weave_wasm_instance_replacements_total", "counter", stepOnly,
		"Module instances thrown away after a failed call; the next batch gets a fresh one.", ""}
	defCheckpoints = Definition{"weave_checkpoints_total", "counter", pipelineLabels,
		"Positions saved.", "Only for pipelines that save positions."}
	defCheckpointAge = Definition{"weave_checkpoint_age_seconds", "gauge", pipelineLabels,
		"Seconds since the last saved position (since the run started, before the first).",
		"Only for pipelines that save positions. A value well past the pipeline's `checkpoint_every` means positions are not being saved: a killed run would read that much again."}
	defCheckpointTime = Definition{"weave_checkpoint_last_timestamp_seconds", "gauge", pipelineLabels,
		"Unix time of the last saved position.", "Absent before the first; alert on `time() - weave_checkpoint_last_timestamp_seconds`."}
	defPhase = Definition{"weave_pipeline_phase", "gauge", []string{labelPipeline, labelPhase},
		"1 for the phase the pipeline is in (starting, running, draining, ended), 0 for the others.", ""}
	defStart = Definition{"weave_pipeline_start_time_seconds", "gauge", pipelineLabels,
		"Unix time the run started.", ""}
	defRestarts = Definition{"weave_pipeline_restarts_total", "counter", pipelineLabels,
		"Runs weave serve started again after the pipeline failed.",
		"weave serve only. `increase(weave_pipeline_restarts_total[15m]) > 0` finds a pipeline failing over and over."}
	defReloads = Definition{"weave_pipeline_reloads_total", "counter", pipelineLabels,
		"Runs weave serve drained and started again because the pipeline's file changed.", "weave serve only."}
	defState = Definition{"weave_pipeline_state", "gauge", []string{labelPipeline, labelState},
		"1 for the state weave serve has the pipeline in (starting, running, restarting, finished, failed, stopped), 0 for the others.",
		"weave serve only; `/pipelines` shows the same with the last error. `weave_pipeline_state{state=\"failed\"} == 1` is a file that does not load."}
	defSplitsPlanned = Definition{"weave_splits_planned_total", "counter", pipelineLabels,
		"Splits this worker published to the work-queue stream as the job's planner.",
		"Coordinated runs only (a `coordinator:` section), as are the other `weave_splits_*` series and `weave_worker_phase`: each worker exports its own; sum them over the workers for the job's."}
	defSplitsTaken = Definition{"weave_splits_taken_total", "counter", pipelineLabels,
		"Splits this worker started reading.", "Taken minus done minus the one being read: splits that failed or were handed back."}
	defSplitsDone = Definition{"weave_splits_done_total", "counter", pipelineLabels,
		"Splits this worker read to their end, published and acknowledged.", ""}
	defSplitsRedone = Definition{"weave_splits_redone_total", "counter", pipelineLabels,
		"Splits this worker finished that had been handed out before: another worker died or gave them back.",
		"Each one replaced the parts its earlier attempt published, and removed what that attempt left unpublished."}
	defSplitsSkipped = Definition{"weave_splits_skipped_total", "counter", pipelineLabels,
		"Splits this worker was handed that a shared position marked finished already (acknowledged without reading).", ""}
	defSplitsLeft = Definition{"weave_splits_left", "gauge", pipelineLabels,
		"The job's splits still in the work-queue stream, waiting or leased to a worker: the job's lag.",
		"As of the worker's last count: after each split, and every fetch while it waits. Absent before the first count. 0 on every worker ends the job."}
	defWorkerPhase = Definition{"weave_worker_phase", "gauge", []string{labelPipeline, labelPhase},
		"1 for the phase the worker is in (connecting, planning, reading, waiting, ended), 0 for the others.",
		"`/readyz` answers 200 while the worker is planning, reading or waiting for a split."}
)

// ServeStates are the states of weave_pipeline_state, in order.
var ServeStates = []string{"starting", "running", "restarting", "finished", "failed", "stopped"}

// Definitions lists every metric the collector exports (besides the Go
// runtime's go_* and the process's process_* series), in documentation
// order.
func Definitions() []Definition {
	return []Definition{
		defRowsIn, defRowsOut, defSkipped, defDeadLettered, defBatches, defBatchDuration,
		defSourceBytes, defSourceRemaining, defSourceLag,
		defSourceRequests, defSourceRefused, defSourceRequestBytes,
		defSinkRetries, defQueue, defQueueCap,
		defWasmCall, defWasmTraps, defWasmTimeouts, defWasmReplaced,
		defCheckpoints, defCheckpointAge, defCheckpointTime,
		defPhase, defStart,
		defRestarts, defReloads, defState,
		defSplitsPlanned, defSplitsTaken, defSplitsDone, defSplitsRedone, defSplitsSkipped, defSplitsLeft, defWorkerPhase,
	}
}
