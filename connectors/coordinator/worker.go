package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
)

// Job is the pipeline a worker runs, once per split it takes.
type Job struct {
	// Pipeline names the pipeline: the workers of one pipeline share its
	// splits and positions, those of another never.
	Pipeline string
	// Build returns a new pipeline of the file (a Pipeline runs once). Its
	// source must implement split.Source.
	Build func(ctx context.Context) (*engine.Pipeline, error)
	// Run runs one pipeline to its end: an engine.Runner's Run method
	// (default engine.Local{}.Run).
	Run    func(ctx context.Context, p *engine.Pipeline) (*engine.Metrics, error)
	Logger *slog.Logger
	// Stop, when closed, makes the worker take no further split and
	// return ErrInterrupted once the split in hand is done or handed back
	// (give it the pipelines' Drain as well, so the split in hand stops
	// early: SIGINT).
	Stop <-chan struct{}
	// Progress, when set, is updated as the worker goes, for a caller
	// that reports it while Run runs (nil: Run keeps its own).
	Progress *Progress
}

// Result is what one worker did.
type Result struct {
	// Worker is the worker's name (Config.Worker, or its default).
	Worker string
	// Planned is how many splits this worker published (0 when another
	// worker planned), Splits how many it read, Skipped how many it was
	// handed that a position marked finished already, Redone how many of
	// those it read had been handed out before.
	Planned, Splits, Skipped, Redone int
	// Rows is the source rows of the splits it read.
	Rows int64
	// Read lists the splits it read, in order.
	Read []SplitRead
}

// ErrInterrupted is returned by Run when Job.Stop stopped the worker; a
// split it was reading and did not finish went back to the stream.
var ErrInterrupted = errors.New("coordinator: stopped; a split not finished was handed back for another worker, and run again to go on")

// worker is one process's share of a job.
type worker struct {
	c       Config
	job     Job
	log     *slog.Logger
	js      jetstream.JetStream
	store   position.Store     // the shared positions
	plans   jetstream.KeyValue // the plan records, beside the positions in the bucket
	locks   jetstream.KeyValue
	subject string
	res     Result
	prog    *Progress
}

// Run is one worker of job: it connects, takes part in planning, then
// reads splits until none is left in the stream, and returns what it did.
// A split whose pipeline fails is handed back (nak) and the error is
// returned: the worker stops as a local run would.
func Run(ctx context.Context, c Config, job Job) (Result, error) {
	c = c.withDefaults()
	log := job.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("worker", c.Worker)
	if job.Run == nil {
		job.Run = engine.Local{}.Run
	}
	prog := job.Progress
	if prog == nil {
		prog = NewProgress()
	}
	defer prog.set(PhaseEnded)
	if err := check(ctx, job, log); err != nil {
		return Result{}, err
	}
	nc, err := c.connect(log)
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = nc.FlushTimeout(2 * time.Second); nc.Close() }()
	js, err := jetstream.New(nc)
	if err != nil {
		return Result{}, fmt.Errorf("coordinator: %w", err)
	}
	w := &worker{c: c, job: job, log: log, js: js, subject: "weave.splits." + enc(job.Pipeline), prog: prog, res: Result{Worker: c.Worker}}
	kv, err := openBucket(ctx, js, c, c.Bucket, 0, log)
	if err != nil {
		return Result{}, err
	}
	w.plans = kv
	st, err := openPositions(ctx, c, kv, log)
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	w.store = st
	if w.locks, err = openBucket(ctx, js, c, c.LockBucket, c.LockTTL, log); err != nil {
		return Result{}, err
	}
	cons, err := w.setup(ctx)
	if err != nil {
		return Result{}, err
	}
	prog.set(PhasePlanning)
	if err := w.plan(ctx, cons); err != nil {
		return w.res, err
	}
	err = w.consume(ctx, cons)
	return w.res, err
}

// check builds one pipeline of the job and refuses it before connecting
// when it cannot run as a worker (Check), logging Check's notes.
func check(ctx context.Context, job Job, log *slog.Logger) error {
	p, err := job.Build(ctx)
	if err != nil {
		return err
	}
	notes, err := Check(p)
	_ = p.Close()
	for _, n := range notes {
		log.Warn("coordinator: " + n)
	}
	return err
}

// setup creates the stream and the pipeline's durable consumer (both
// idempotent: every worker does it, whoever comes first).
func (w *worker) setup(ctx context.Context) (jetstream.Consumer, error) {
	var cons jetstream.Consumer
	err := retry(ctx, w.c.MaxOutage, w.log, "create stream "+w.c.Stream, func(ctx context.Context) error {
		cfg := jetstream.StreamConfig{
			Name: w.c.Stream, Subjects: []string{"weave.splits.>"}, Retention: jetstream.WorkQueuePolicy,
			Storage: jetstream.FileStorage, Replicas: w.c.Replicas,
			// A planner taking over from one that died re-publishes under
			// the same message IDs within this window (see planRecord).
			Duplicates: 10 * time.Minute,
		}
		// Create, which leaves a stream of the same settings as it is, and
		// update only a stream whose settings differ (replicas changed).
		// CreateOrUpdateStream updated the stream at every worker's start,
		// and an update racing another worker's consumer creation is a data
		// race inside nats-server (fileStore.UpdateConfig against
		// jsConsumerCreateRequest, seen by -race in TestPostgresPositions).
		_, err := w.js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			_, err = w.js.UpdateStream(ctx, cfg)
		}
		if err != nil {
			return err
		}
		cons, err = w.js.CreateOrUpdateConsumer(ctx, w.c.Stream, jetstream.ConsumerConfig{
			Durable: "weave-" + enc(w.job.Pipeline), FilterSubject: w.subject,
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: w.c.AckWait, MaxDeliver: -1,
			MaxAckPending: -1, Replicas: w.c.Replicas,
		})
		return err
	})
	if err != nil {
		return nil, err // retry's error says "coordinator: …" already
	}
	return cons, nil
}

// message is a split as published.
type message struct {
	Pipeline string      `json:"pipeline"`
	Step     string      `json:"step"`
	Split    split.Split `json:"split"`
}

// consume takes splits one at a time until the stream holds none of the
// pipeline's: none waiting and none leased to a worker (a dead worker's
// lease runs out and its split comes back, so survivors wait for it).
func (w *worker) consume(ctx context.Context, cons jetstream.Consumer) error {
	wait := false
	for {
		select {
		case <-w.job.Stop:
			return ErrInterrupted
		default:
		}
		var msg jetstream.Msg
		err := retry(ctx, w.c.MaxOutage, w.log, "fetch a split", func(context.Context) error {
			// Without waiting first: a worker whose stream is empty ends at
			// once rather than after a fetch's wait. While splits are leased
			// to others it waits in short fetches: a dead worker's split
			// comes back when its lease runs out, and otherwise the last
			// lease's ack ends every worker within a fetch's wait.
			var batch jetstream.MessageBatch
			var err error
			if wait {
				batch, err = cons.Fetch(1, jetstream.FetchMaxWait(250*time.Millisecond))
			} else {
				batch, err = cons.FetchNoWait(1)
			}
			if err != nil {
				return err
			}
			for m := range batch.Messages() {
				msg = m
			}
			return batch.Error()
		})
		if err != nil {
			return err
		}
		if msg == nil {
			w.prog.set(PhaseWaiting)
			left, err := w.left(ctx, cons)
			if err != nil {
				return err
			}
			w.prog.Left.Store(int64(left))
			if left == 0 {
				over, err := w.done(ctx, cons)
				if over || err != nil {
					return err
				}
			}
			wait = true
			continue
		}
		wait = false
		if err := w.take(ctx, msg); err != nil {
			return err
		}
	}
}

// left is how many splits are waiting or leased: the pipeline's messages
// still in the work-queue stream, which removes a message when it is
// acked. The stream's count, not the consumer's pending figures: a
// publish is acknowledged once the stream holds the message, while the
// consumer learns of it a moment later, and a worker that asked the
// consumer right after the plan was published found nothing left and
// ended with every split unread (seen in CI).
func (w *worker) left(ctx context.Context, _ jetstream.Consumer) (uint64, error) {
	var n uint64
	err := retry(ctx, w.c.MaxOutage, w.log, "count splits left", func(ctx context.Context) error {
		st, err := w.js.Stream(ctx, w.c.Stream)
		if err != nil {
			return err
		}
		info, err := st.Info(ctx, jetstream.WithSubjectFilter(w.subject))
		if err != nil {
			return err
		}
		n = info.State.Subjects[w.subject]
		return nil
	})
	return n, err
}

// take reads one split while extending its lease, records it finished in
// the shared positions and acknowledges it.
func (w *worker) take(ctx context.Context, msg jetstream.Msg) error {
	var m message
	if err := json.Unmarshal(msg.Data(), &m); err != nil {
		w.log.Error("coordinator: dropping a message that is not a split", "subject", msg.Subject(), "error", err)
		return w.ack(ctx, msg)
	}
	key := position.Key{Pipeline: w.job.Pipeline, Step: m.Step, Split: m.Split.ID}
	rec, err := w.store.Load(ctx, key)
	if err != nil {
		return err
	}
	if rec.Finished {
		w.res.Skipped++
		w.prog.Skipped.Add(1)
		return w.ack(ctx, msg)
	}
	redo := redelivered(msg)
	w.log.Info("coordinator: reading split", "split", m.Split.ID, "redone", redo)
	w.prog.set(PhaseReading)
	w.prog.Taken.Add(1)
	start := time.Now()
	rows, err := w.runSplit(ctx, msg, m.Split, redo)
	if err != nil {
		// Handed back at once, for another worker (or this one's next run).
		_ = msg.Nak()
		if errors.Is(err, ErrInterrupted) {
			return err
		}
		return fmt.Errorf("split %s: %w", m.Split.ID, err)
	}
	done := position.Record{Revision: rec.Revision, Source: m.Split.Data, Text: m.Split.Text + " read to its end",
		Rows: rows, Saved: time.Now().UTC(), Finished: true}
	if _, err := w.store.Save(ctx, key, done); err != nil && !errors.Is(err, position.ErrStale) {
		return err
	}
	// ErrStale: another worker finished the same split meanwhile (it was
	// published twice, or our lease ran out); its part replaced ours or
	// ours replaced its, the same rows either way.
	w.res.Splits++
	w.res.Rows += rows
	w.res.Read = append(w.res.Read, SplitRead{ID: m.Split.ID, Text: m.Split.Text, Rows: rows, Redone: redo, Duration: time.Since(start)})
	if redo {
		w.res.Redone++
		w.prog.Redone.Add(1)
	}
	if err := w.ack(ctx, msg); err != nil {
		return err
	}
	w.prog.Done.Add(1)
	w.countLeft(ctx)
	return nil
}

// countLeft updates Progress.Left after a split, once: a count that
// fails (a server failing over) leaves the last one, and the split goes
// on rather than waiting for a figure only shown.
func (w *worker) countLeft(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := w.js.Stream(ctx, w.c.Stream)
	if err != nil {
		return
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(w.subject))
	if err != nil {
		return
	}
	w.prog.Left.Store(int64(info.State.Subjects[w.subject]))
}

// runSplit builds a pipeline, points its source at s and its part sinks
// at s's parts, and runs it while a goroutine extends the lease.
func (w *worker) runSplit(ctx context.Context, msg jetstream.Msg, s split.Split, redo bool) (int64, error) {
	p, err := w.job.Build(ctx)
	if err != nil {
		return 0, err
	}
	// Run checked the file's pipeline (Check) before it connected.
	src, ok := p.Source.Source.(split.Source)
	if !ok {
		_ = p.Close()
		return 0, fmt.Errorf("%w: source %s cannot be read in splits", engine.ErrInvalidConfig, p.Source.Name)
	}
	if err := src.ReadSplit(s); err != nil {
		_ = p.Close()
		return 0, err
	}
	for _, sk := range p.Sinks {
		if err := writePart(sk.Sink, s.ID, redo); err != nil {
			_ = p.Close()
			return 0, err
		}
	}
	if p.DeadLetter != nil {
		// The split's dead letters are a part of its own too, so a redone
		// split replaces them instead of adding them again.
		if err := writePart(p.DeadLetter, s.ID, redo); err != nil {
			_ = p.Close()
			return 0, err
		}
	}
	// A split is redone from its start, never resumed: its part is
	// published whole at the end, so a half-read split left nothing.
	p.Positions, p.FromStart = nil, true

	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(w.c.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				// InProgress resets AckWait; a failure (server failing
				// over) is retried at the next tick, well within it.
				if err := msg.InProgress(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
					w.log.Warn("coordinator: extending a split's lease failed", "error", err)
				}
			}
		}
	}()
	m, err := w.job.Run(ctx, p)
	close(stop)
	if err != nil {
		return 0, err
	}
	var rows int64
	if m != nil {
		if m.Interrupted.Load() {
			return 0, ErrInterrupted
		}
		for _, st := range m.Steps {
			if st.Kind == engine.KindSource {
				rows += st.RowsOut.Load() + st.Skipped.Load() + st.DeadLettered.Load()
			}
		}
	}
	return rows, nil
}

// redelivered reports whether msg was handed out before: its worker died
// or gave it back, and may have left unpublished parts.
func redelivered(msg jetstream.Msg) bool {
	md, err := msg.Metadata()
	return err == nil && md.NumDelivered > 1
}

// writePart points a part sink at split id's parts; a redone split's
// sink also cleans up what earlier attempts left (split.Redoer).
func writePart(sk engine.Sink, id string, redo bool) error {
	if r, ok := sk.(split.Redoer); ok && redo {
		return r.WritePartAgain(id)
	}
	if ps, ok := sk.(split.Sink); ok {
		return ps.WritePart(id)
	}
	return nil
}

// ack acknowledges a split and waits for the server's answer, retrying
// through a failover; a split whose ack is lost is redone and skipped.
func (w *worker) ack(ctx context.Context, msg jetstream.Msg) error {
	return retry(ctx, w.c.MaxOutage, w.log, "acknowledge a split", func(ctx context.Context) error {
		err := msg.DoubleAck(ctx)
		if errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
			return nil
		}
		return err
	})
}
