package s3test

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy is a TCP proxy in front of the server that counts the bytes the
// server sends to clients (responses, headers included): what a test
// claims was not downloaded is measured on the wire, outside the client.
type Proxy struct {
	// Endpoint is the proxy's URL, to give a connector instead of the
	// server's.
	Endpoint string
	served   atomic.Int64
	ln       net.Listener
	mu       sync.Mutex
	conns    []net.Conn
	wg       sync.WaitGroup
}

// Proxy starts a counting proxy to s, closed when t ends.
func (s *Server) Proxy(t testing.TB) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Endpoint: "http://" + ln.Addr().String(), ln: ln}
	target := s.Endpoint[len("http://"):]
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Add(2)
			go func() { defer p.wg.Done(); io.Copy(up, c); up.Close() }()
			go func() {
				defer p.wg.Done()
				io.Copy(countWriter{c, &p.served}, up)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// Served is how many bytes the server has sent through the proxy.
func (p *Proxy) Served() int64 { return p.served.Load() }

// Reset sets the count back to zero.
func (p *Proxy) Reset() { p.served.Store(0) }

type countWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}
