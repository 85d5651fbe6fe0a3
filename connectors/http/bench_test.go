package http

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/engine/config"

	_ "github.com/dataweaver/dataweaver/connectors/discard"
)

// BenchmarkPostToDiscard: rows/s POSTed to the http source and written to
// discard, per body format and rows per request (= the pipeline's batch
// rows). Two clients post the orders table (about 150 bytes a row as
// NDJSON) over keep-alive connections, each request waiting for its 200,
// so the figure includes decoding, the queue, the engine and the ack
// round trip; the clock runs from the first request to the end of the run.
func BenchmarkPostToDiscard(b *testing.B) {
	const rows, clients = 200_000, 2
	m := memory.NewGoAllocator()
	orders := generate.Orders(m, rows, 1)
	defer orders.Release()
	schema := conformance.SchemaYAML(generate.OrdersSchema)
	for _, ct := range []string{ctNDJSON, ctArrow} {
		for _, batch := range []int{1000, 10000} {
			var bodies [][]byte
			for off := 0; off < rows; off += batch {
				part := orders.NewSlice(int64(off), int64(min(off+batch, rows)))
				if ct == ctNDJSON {
					bodies = append(bodies, ndjsonBody(b, part))
				} else {
					bodies = append(bodies, arrowBody(b, part))
				}
				part.Release()
			}
			name := map[string]string{ctNDJSON: "ndjson", ctArrow: "arrow"}[ct]
			b.Run(fmt.Sprintf("%s/batch%d", name, batch), func(b *testing.B) {
				var took time.Duration
				for range b.N {
					took += postAll(b, schema, batch, ct, bodies, clients, rows)
				}
				b.ReportMetric(float64(rows*b.N)/took.Seconds(), "rows/s")
			})
			// The same-run baseline: the same bodies through the same
			// decoders from memory, on as many goroutines, no HTTP, queue,
			// engine or ack.
			b.Run(fmt.Sprintf("%s/batch%d/decode-only", name, batch), func(b *testing.B) {
				format := map[string]string{ctNDJSON: formatNDJSON, ctArrow: formatArrow}[ct]
				cfg := &serverConfig{mem: m, schema: generate.OrdersSchema, batchRows: batch}
				var took time.Duration
				for range b.N {
					start := time.Now()
					var wg sync.WaitGroup
					for c := range clients {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for i := c; i < len(bodies); i += clients {
								req := newRequest("bench", format)
								if err := decodeBody(cfg, req, bytes.NewReader(bodies[i])); err != nil {
									panic(err)
								}
								req.release()
							}
						}()
					}
					wg.Wait()
					took += time.Since(start)
				}
				b.ReportMetric(float64(rows*b.N)/took.Seconds(), "rows/s")
			})
		}
	}
}

// postAll runs one pipeline and returns the time from the first request to
// the end of the run.
func postAll(b *testing.B, schema string, batch int, ct string, bodies [][]byte, clients, rows int) time.Duration {
	text := fmt.Sprintf(`
batch: {rows: %d}
source:
  http: {address: "127.0.0.1:0", allow_end_of_input: true, schema: %s}
sinks: [discard]
`, batch, schema)
	opts := config.Options{Logger: slog.New(slog.DiscardHandler)}
	f, err := config.Parse([]byte(text), "bench.yaml", opts)
	if err != nil {
		b.Fatal(err)
	}
	p, err := config.Build(f, opts)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		m, err := p.Run(context.Background())
		if err == nil && m.Steps[0].RowsOut.Load() != int64(rows) {
			err = fmt.Errorf("read %d rows, want %d", m.Steps[0].RowsOut.Load(), rows)
		}
		done <- err
	}()
	src := p.Source.Source.(*Source)
	for src.Addr() == "" {
		time.Sleep(time.Millisecond)
	}
	url := "http://" + src.Addr() + "/"
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < len(bodies); i += clients {
				if err := mustPost(cl, url, ct, bodies[i], nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if err := mustPost(cl, url, ct, nil, map[string]string{EndOfInputHeader: "true"}); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

func mustPost(cl *http.Client, url, ct string, body []byte, hdr map[string]string) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ct)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%d %s", resp.StatusCode, msg)
	}
	return nil
}
