// Package telemetry serves a running pipeline's figures to Prometheus and
// its health to an orchestrator: `weave run --http ADDR` starts a Server
// with /metrics, /healthz and /readyz.
//
// # Zero cost on the hot path
//
// The engine keeps its counters in atomics (engine.StepMetrics), its
// per-batch latencies in lock-free fixed-bucket histograms
// (engine.Histogram) and its queues as channels. Collector reads all of
// them when Prometheus scrapes, through prometheus.Collector, so a pipeline
// pays nothing per row for being monitored and the engine does not import
// Prometheus.
//
// # Reference
//
// Every metric is declared once, in Definitions; the collector builds its
// descriptions from that table and docs/metrics.md is generated from it
// (go run ./internal/telemetry/cmd/metricsdoc, or make docs).
package telemetry
