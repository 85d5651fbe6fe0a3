package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/engine/position"
)

// Store keeps positions in a JetStream key-value bucket, shared by every
// worker: a Save names the revision it read, and fails with
// position.ErrStale when another worker saved in between (the bucket's
// compare-and-set), so two workers never overwrite each other's position
// unawares.
type Store struct {
	kv     jetstream.KeyValue
	outage time.Duration
	log    *slog.Logger
	close  func()
}

var _ position.Store = (*Store)(nil)

// OpenStore connects to c's servers and opens (creating it if missing)
// its positions bucket. Close closes the connection.
func OpenStore(ctx context.Context, c Config, log *slog.Logger) (*Store, error) {
	c = c.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	nc, err := c.connect(log)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("coordinator: %w", err)
	}
	kv, err := openBucket(ctx, js, c, c.Bucket, 0, log)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &Store{kv: kv, outage: c.MaxOutage, log: log, close: nc.Close}, nil
}

func openBucket(ctx context.Context, js jetstream.JetStream, c Config, name string, ttl time.Duration, log *slog.Logger) (jetstream.KeyValue, error) {
	var kv jetstream.KeyValue
	err := retry(ctx, c.MaxOutage, log, "open bucket "+name, func(ctx context.Context) error {
		var err error
		kv, err = js.KeyValue(ctx, name)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, TTL: ttl, Replicas: c.Replicas, Storage: jetstream.FileStorage})
			if errors.Is(err, jetstream.ErrBucketExists) {
				kv, err = js.KeyValue(ctx, name)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return kv, nil
}

// enc makes a name safe as one token of a subject or a key: letters,
// digits, _ and - stay, every other byte becomes =XX. "" is "=".
func enc(s string) string {
	if s == "" {
		return "="
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

func dec(s string) (string, error) {
	if s == "=" {
		return "", nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("bad key token %q", s)
		}
		c, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("bad key token %q: %w", s, err)
		}
		b.WriteByte(byte(c))
		i += 2
	}
	return b.String(), nil
}

func posKey(k position.Key) string {
	return "pos." + enc(k.Pipeline) + "." + enc(k.Step) + "." + enc(k.Split)
}

// Load returns the record under key, or a zero Record.
func (s *Store) Load(ctx context.Context, key position.Key) (position.Record, error) {
	var rec position.Record
	err := retry(ctx, s.outage, s.log, "load position", func(ctx context.Context) error {
		e, err := s.kv.Get(ctx, posKey(key))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			rec = position.Record{}
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return permanent(fmt.Errorf("position %s: %w", key, err))
		}
		rec.Revision = e.Revision()
		return nil
	})
	if err != nil {
		return position.Record{}, err
	}
	return rec, nil
}

// Save stores rec if rec.Revision is the revision held now (0: none).
func (s *Store) Save(ctx context.Context, key position.Key, rec position.Record) (uint64, error) {
	want := rec.Revision
	rec.Revision = 0
	val, err := json.Marshal(rec)
	if err != nil {
		return 0, fmt.Errorf("coordinator: position %s: %w", key, err)
	}
	var rev uint64
	k := posKey(key)
	err = retry(ctx, s.outage, s.log, "save position", func(ctx context.Context) error {
		var err error
		if want == 0 {
			rev, err = s.kv.Create(ctx, k, val)
		} else {
			rev, err = s.kv.Update(ctx, k, val, want)
		}
		if err == nil {
			return nil
		}
		if errors.Is(err, jetstream.ErrKeyExists) || isWrongSequence(err) {
			// A retry after a save whose answer was lost sees its own
			// write as a conflict: the value stored is then ours.
			if e, gerr := s.kv.Get(ctx, k); gerr == nil && string(e.Value()) == string(val) {
				rev = e.Revision()
				return nil
			}
			return permanent(fmt.Errorf("%w: %s", position.ErrStale, key))
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	return rev, nil
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// Delete forgets key.
func (s *Store) Delete(ctx context.Context, key position.Key) error {
	return retry(ctx, s.outage, s.log, "delete position", func(ctx context.Context) error {
		err := s.kv.Delete(ctx, posKey(key))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil
		}
		return err
	})
}

// List returns every record of the pipeline, sorted by step and split.
func (s *Store) List(ctx context.Context, pipeline string) ([]position.Entry, error) {
	var keys []string
	err := retry(ctx, s.outage, s.log, "list positions", func(ctx context.Context) error {
		keys = keys[:0]
		l, err := s.kv.ListKeysFiltered(ctx, "pos."+enc(pipeline)+".>")
		if err != nil {
			return err
		}
		defer l.Stop()
		for k := range l.Keys() {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []position.Entry
	for _, k := range keys {
		parts := strings.Split(k, ".")
		if len(parts) != 4 {
			continue
		}
		step, err1 := dec(parts[2])
		split, err2 := dec(parts[3])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("coordinator: %w", err)
		}
		key := position.Key{Pipeline: pipeline, Step: step, Split: split}
		rec, err := s.Load(ctx, key)
		if err != nil {
			return nil, err
		}
		if rec.Revision == 0 {
			continue // deleted since listed
		}
		out = append(out, position.Entry{Key: key, Record: rec})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key.Step != out[j].Key.Step {
			return out[i].Key.Step < out[j].Key.Step
		}
		return out[i].Key.Split < out[j].Key.Split
	})
	return out, nil
}

// Close closes the store's connection; the bucket stays.
func (s *Store) Close() error {
	if s.close != nil {
		s.close()
		s.close = nil
	}
	return nil
}
