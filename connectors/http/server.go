package http

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/dataweaver/dataweaver/engine"
)

// shutdownWait bounds how long Close waits for handlers to write their
// replies before it drops the connections.
const shutdownWait = 5 * time.Second

// server is one run of the source between Open and Close: the listener,
// the queue of decoded requests, and the batches awaiting their ack.
//
// A request holds a place (a token in sem) from before its body is read
// until Read takes it, so at most max_pending_requests bodies and their
// decoded rows are in memory besides what the pipeline holds; the rest
// wait for a place, up to max_wait, and then get 503.
type server struct {
	cfg      serverConfig
	run      int64
	addr     string
	http     *http.Server
	served   chan struct{} // closed when Serve has returned
	sem      chan struct{} // places
	stopping chan struct{} // closed when the server stops: waiting requests give up
	wake     chan struct{} // tells Read that the queue or the state changed

	connMu sync.Mutex
	fresh  map[net.Conn]struct{} // connections that have not sent a request yet

	mu        sync.Mutex
	closed    bool
	draining  bool // Read's context ended: the pipeline is stopping
	ended     bool // a request carried Weave-End-Of-Input
	holding   int  // requests holding a place (being decoded or queued)
	queue     []*request
	cur       *request // taken, rows partly emitted
	batch     int64    // number of the next batch
	unacked   []unacked
	requestNo int64
}

// unacked is a batch read but not acknowledged, with the requests whose
// last rows it carries.
type unacked struct {
	batch int64
	done  []*request
}

func startServer(cfg serverConfig, run int64) (*server, error) {
	ln, err := net.Listen("tcp", cfg.address)
	if err != nil {
		return nil, fmt.Errorf("http source: listen on %s: %w", cfg.address, err)
	}
	scheme := "http"
	if cfg.certFile != "" {
		tc, err := serverTLS(cfg)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("http source: %w", err)
		}
		ln = tls.NewListener(ln, tc)
		scheme = "https"
	}
	sv := &server{
		cfg: cfg, run: run, addr: ln.Addr().String(),
		served: make(chan struct{}), sem: make(chan struct{}, cfg.maxPending),
		stopping: make(chan struct{}), wake: make(chan struct{}, 1),
		fresh: map[net.Conn]struct{}{},
	}
	sv.http = &http.Server{
		Handler:           sv,
		ReadHeaderTimeout: min(cfg.readTO, 10*time.Second),
		// A request's reply waits for the pipeline, so there is no
		// WriteTimeout; ReadTimeout bounds how long a slow client holds
		// a place while its body trickles in.
		ReadTimeout:    cfg.readTO,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(cfg.log.Handler(), slog.LevelWarn),
		ConnState:      sv.track,
	}
	go func() {
		defer close(sv.served)
		if err := sv.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.log.Error("http source: serve", "error", err)
		}
	}()
	cfg.log.Info("listening", "url", scheme+"://"+sv.addr+cfg.path)
	if cfg.token == "" && !loopback(ln.Addr()) {
		cfg.log.Warn("http source accepts requests from any host without a token; set auth_token", "address", sv.addr)
	}
	return sv, nil
}

// serverTLS reads the certificate, and the client CAs when clients must
// present a certificate, at each Open.
func serverTLS(cfg serverConfig) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(cfg.certFile, cfg.keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.clientCA != "" {
		pem, err := os.ReadFile(cfg.clientCA)
		if err != nil {
			return nil, fmt.Errorf("tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.client_ca_file %s holds no PEM certificate", cfg.clientCA)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

func loopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func (sv *server) signal() {
	select {
	case sv.wake <- struct{}{}:
	default:
	}
}

// stateErr is why the server takes no more requests, or "".
func (sv *server) stateErr() string {
	switch {
	case sv.closed || sv.draining:
		return "the pipeline is stopping"
	case sv.ended:
		return "the input has ended (Weave-End-Of-Input)"
	}
	return ""
}

// admit waits until deadline for a place. It returns "" once the request
// holds one, or why it cannot have one (the reply is then 503), or
// errGone when the client left.
func (sv *server) admit(ctx context.Context, deadline time.Time) string {
	sv.mu.Lock()
	why := sv.stateErr()
	sv.mu.Unlock()
	if why != "" {
		return why
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case sv.sem <- struct{}{}:
	case <-t.C:
		return whyBusy
	case <-sv.stopping:
		return "the pipeline is stopping"
	case <-ctx.Done():
		return errGone
	}
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if why := sv.stateErr(); why != "" {
		<-sv.sem
		return why
	}
	sv.holding++
	return ""
}

const errGone = "client gone"

// whyBusy is admit's answer when no place came free in time: the
// pipeline does not keep up (a "busy" refusal in the metrics).
const whyBusy = "too many requests are waiting for the pipeline"

// leave gives back the place of a request that will not be queued.
func (sv *server) leave() {
	sv.mu.Lock()
	sv.holding--
	sv.mu.Unlock()
	<-sv.sem
	sv.signal()
}

// enqueue hands a decoded request to Read. It returns the answer when the
// request is done at once (no rows, or the server is stopping).
func (sv *server) enqueue(r *request) (result, bool) {
	sv.mu.Lock()
	if sv.closed || sv.draining {
		sv.mu.Unlock()
		sv.leave()
		r.release()
		return unavailable("the pipeline is stopping"), true
	}
	if r.end {
		sv.ended = true
	}
	if r.rows == 0 && len(r.rejects) == 0 {
		sv.mu.Unlock()
		sv.leave()
		return result{status: http.StatusOK, body: okBody{Ended: r.end}}, true
	}
	r.state = queued
	sv.queue = append(sv.queue, r)
	sv.mu.Unlock()
	sv.signal()
	return result{}, false
}

// withdraw takes a request that Read has not taken yet out of the queue
// (its wait is over, or its client left). It reports false when Read has
// it already: its answer will come.
func (sv *server) withdraw(r *request) bool {
	sv.mu.Lock()
	if r.state != queued {
		sv.mu.Unlock()
		return false
	}
	for i, q := range sv.queue {
		if q == r {
			sv.queue = append(sv.queue[:i], sv.queue[i+1:]...)
			break
		}
	}
	r.state = withdrawn
	sv.holding--
	sv.mu.Unlock()
	<-sv.sem
	r.release()
	sv.signal()
	return true
}

// take moves a queued request to Read; sv.mu is held.
func (sv *server) take(r *request) {
	r.state = taken
	sv.holding--
	<-sv.sem
}

// read is Source.Read.
func (sv *server) read(ctx context.Context) (*engine.Batch, error) {
	for {
		if err := ctx.Err(); err != nil {
			sv.drain()
			return nil, err
		}
		sv.mu.Lock()
		if sv.closed {
			sv.mu.Unlock()
			return nil, errClosed
		}
		sv.draining = false
		if sv.cur != nil || len(sv.queue) > 0 {
			a := sv.assemble()
			sv.mu.Unlock()
			return sv.batchOf(a)
		}
		if sv.ended && sv.holding == 0 {
			sv.mu.Unlock()
			return nil, engine.ErrEndOfInput
		}
		sv.mu.Unlock()
		select {
		case <-sv.wake:
		case <-ctx.Done():
		}
	}
}

// ack answers the requests completed by every batch up to batch.
func (sv *server) ack(batch int64) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for len(sv.unacked) > 0 && sv.unacked[0].batch <= batch {
		for _, r := range sv.unacked[0].done {
			r.finish(result{status: http.StatusOK, body: r.ok})
		}
		sv.unacked = sv.unacked[1:]
	}
}

// drain answers the queued requests 503: Read's context ended, so the
// pipeline will not take them. Requests arriving until the next Read get
// 503 too.
func (sv *server) drain() {
	sv.mu.Lock()
	sv.draining = true
	q := sv.queue
	sv.queue = nil
	for _, r := range q {
		r.finish(unavailable("the pipeline is stopping"))
		sv.holding--
		<-sv.sem
	}
	sv.mu.Unlock()
	for _, r := range q {
		r.release()
	}
}

// stop marks the server closed and answers every request not yet
// acknowledged with res.
func (sv *server) stop(res result) {
	sv.mu.Lock()
	if sv.closed {
		sv.mu.Unlock()
		return
	}
	sv.closed = true
	close(sv.stopping)
	var free []*request
	for _, r := range sv.queue {
		r.finish(res)
		free = append(free, r)
	}
	if sv.cur != nil {
		free = append(free, sv.cur)
		sv.cur.finish(res)
	}
	for _, u := range sv.unacked {
		for _, r := range u.done {
			r.finish(res)
		}
	}
	sv.queue, sv.cur, sv.unacked = nil, nil, nil
	sv.mu.Unlock()
	for _, r := range free {
		r.release()
	}
	sv.signal()
}

// track follows connections from accept to their first request.
func (sv *server) track(c net.Conn, state http.ConnState) {
	sv.connMu.Lock()
	defer sv.connMu.Unlock()
	if state == http.StateNew {
		sv.fresh[c] = struct{}{}
	} else {
		delete(sv.fresh, c)
	}
}

// shutdown is Source.Close: requests not acknowledged get 503 (their
// clients send them again), then the server stops once every reply is
// written. Connections a client opened but has not used yet are closed at
// once (http.Server.Shutdown would wait five seconds for them), and a
// client still uploading after shutdownWait is cut off: it gets no reply
// and sends the request again, which at-least-once allows.
func (sv *server) shutdown() error {
	sv.stop(unavailable("the pipeline stopped before these rows were stored; send them again"))
	ctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- sv.http.Shutdown(ctx) }()
	sv.connMu.Lock()
	for c := range sv.fresh {
		_ = c.Close()
	}
	sv.connMu.Unlock()
	if err := <-shut; err != nil {
		sv.cfg.log.Warn("http source: cut off requests still being sent at shutdown", "error", err)
		_ = sv.http.Close()
	}
	<-sv.served
	return nil
}

// crash drops every connection without answering, as a dying process does.
func (sv *server) crash() {
	sv.stop(result{abort: true})
	_ = sv.http.Close()
	<-sv.served
}

func unavailable(why string) result {
	return result{status: http.StatusServiceUnavailable, body: errBody{Error: why}}
}
