package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/dataweaver/dataweaver/engine"
)

// Tracer makes the engine's spans (engine.Tracer) and exports them.
type Tracer struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
}

// ErrConfig marks OTEL_* settings weave cannot honour. It is an
// engine.ErrInvalidConfig, so weave exits 2 as for any configuration
// mistake.
var ErrConfig = fmt.Errorf("tracing: %w", engine.ErrInvalidConfig)

// New reads the OTEL_* variables through lookup (os.LookupEnv in weave) and
// returns a Tracer exporting to the endpoint they name, or nil, nil when
// they turn tracing off (see the package doc). Call Shutdown at exit to
// send the spans still buffered.
func New(ctx context.Context, lookup func(string) (string, bool)) (*Tracer, error) {
	getenv := func(k string) string {
		if v, ok := lookup(k); ok {
			return v
		}
		return ""
	}
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return nil, nil
	}
	switch e := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); e {
	case "none":
		return nil, nil
	case "", "otlp":
	default:
		return nil, fmt.Errorf("%w: OTEL_TRACES_EXPORTER=%s: weave exports traces only over OTLP (otlp) or not at all (none)", ErrConfig, e)
	}
	// The signal-specific endpoint is used as it is; the general one gets
	// the signal's path appended, as the OTLP exporter specification says.
	key := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	endpoint := strings.TrimSpace(getenv(key))
	if endpoint == "" {
		key = "OTEL_EXPORTER_OTLP_ENDPOINT"
		base := strings.TrimSpace(getenv(key))
		if base == "" {
			return nil, nil
		}
		endpoint = strings.TrimSuffix(base, "/") + "/v1/traces"
	}
	// The exporter would take "localhost:4318" for a URL of scheme
	// "localhost" and fail only when it first sends; say so at start.
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %s=%s: want a URL such as http://localhost:4318", ErrConfig, key, getenv(key))
	}
	for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			if v != "http/protobuf" {
				return nil, fmt.Errorf("%w: %s=%s: weave sends OTLP over HTTP (http/protobuf); point it at the collector's HTTP port (4318)", ErrConfig, k, v)
			}
			break
		}
	}
	// The endpoint is passed explicitly so that lookup, not only the
	// process environment, decides where spans go (tests run in process).
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("%w: OTLP exporter for %s: %w", ErrConfig, endpoint, err)
	}
	// service.name defaults to weave; OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES, detected after it, override it.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "weave")),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("%w: resource: %w", ErrConfig, err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracer{provider: tp, tracer: tp.Tracer("github.com/dataweaver/dataweaver/engine")}, nil
}

// Shutdown sends the spans still buffered and stops the exporter. A nil
// Tracer has nothing to do.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flush spans: %w", err)
	}
	return nil
}

// Attribute keys, under weave. so they never collide with semantic
// conventions.
const (
	keyPipeline = "weave.pipeline"
	keySource   = "weave.source"
	keySeq      = "weave.batch.seq"
	keyRows     = "weave.rows"
	keyRejects  = "weave.rejects"
	keyStep     = "weave.step"
	keyKind     = "weave.step.kind"
	keyRowsIn   = "weave.rows.in"
	keyRowsOut  = "weave.rows.out"
)

var traceContext = propagation.TraceContext{}

// StartBatch starts a batch's span, as a child of the batch's traceparent
// when it carries a valid one.
func (t *Tracer) StartBatch(b engine.TraceBatch) engine.BatchSpan {
	ctx := context.Background()
	if b.TraceParent != "" {
		ctx = traceContext.Extract(ctx, propagation.MapCarrier{"traceparent": b.TraceParent})
	}
	ctx, span := t.tracer.Start(ctx, "batch", trace.WithTimestamp(b.Start), trace.WithAttributes(
		attribute.String(keyPipeline, b.Pipeline),
		attribute.String(keySource, b.Source),
		attribute.Int64(keySeq, b.Seq),
		attribute.Int64(keyRows, b.Rows),
		attribute.Int64(keyRejects, b.Rejects),
	))
	return &batchSpan{t: t, ctx: ctx, span: span}
}

type batchSpan struct {
	t    *Tracer
	ctx  context.Context
	span trace.Span
}

func (s *batchSpan) StartStep(step, kind string, rowsIn int64) (string, func(engine.StepEnd)) {
	ctx, span := s.t.tracer.Start(s.ctx, kind+" "+step, trace.WithAttributes(
		attribute.String(keyStep, step),
		attribute.String(keyKind, kind),
		attribute.Int64(keyRowsIn, rowsIn),
	))
	var tp string
	if kind == engine.KindSink {
		// Only a sink sends anything on; a stage's would go unused.
		c := propagation.MapCarrier{}
		traceContext.Inject(ctx, c)
		tp = c["traceparent"]
	}
	return tp, func(e engine.StepEnd) {
		span.SetAttributes(attribute.Int64(keyRowsOut, e.RowsOut), attribute.Int64(keyRejects, e.Rejects))
		setError(span, e.Err)
		span.End()
	}
}

func (s *batchSpan) End(err error) {
	setError(s.span, err)
	s.span.End()
}

func setError(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
}

// flushTimeout bounds the flush at exit, so that a collector that does
// not answer delays weave's exit by at most this much.
const flushTimeout = 5 * time.Second

// Trace sets p.Tracer from the OTEL_* variables read through lookup, and
// returns the function to call at exit, which sends the spans still
// buffered. When tracing is off, p.Tracer stays nil and stop does
// nothing. Export failures are logged to log as warnings: a collector
// that is down must not fail a run.
func Trace(ctx context.Context, p *engine.Pipeline, lookup func(string) (string, bool), log *slog.Logger) (stop func(), err error) {
	t, err := New(ctx, lookup)
	if err != nil || t == nil {
		return func() {}, err
	}
	// The SDK reports failed exports through OpenTelemetry's global error
	// handler; weave has one process-wide logger, so it goes there.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: "+err.Error(), "pipeline", p.Name)
	}))
	p.Tracer = t // only a non-nil *Tracer: a nil one in the interface would not be nil
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
		defer cancel()
		if err := t.Shutdown(ctx); err != nil {
			log.Warn(err.Error(), "pipeline", p.Name)
		}
	}, nil
}
