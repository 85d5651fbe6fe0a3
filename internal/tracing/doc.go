// Package tracing exports the engine's batch and step spans to an
// OpenTelemetry collector over OTLP/HTTP.
//
// # Configuration
//
// Only the standard OTEL_* environment variables configure it. Tracing is
// on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// is set, unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none; it is
// off otherwise, and then New returns a nil Tracer, so the engine makes no
// span at all. The exporter and the SDK read the other variables
// themselves (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION,
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER,
// OTEL_BSP_*).
//
// # Spans
//
// Each batch gets a span named "batch", from the start of the source's
// Read until the last sink has written it, with a child per stage and per
// sink it went through. A batch whose rows arrived with a W3C traceparent
// (an HTTP request's header) continues that trace.
package tracing
