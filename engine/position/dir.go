package position

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// DirStore is the default Store: one bbolt file per pipeline in a state
// directory. bbolt commits with fsync and holds an exclusive lock on the
// file, so a second process running the same pipeline from the same state
// is refused instead of racing the first one.
type DirStore struct {
	dir string
	mu  sync.Mutex
	dbs map[string]*bolt.DB
}

// lockWait is how long opening a pipeline's state waits for another
// process to let go of it.
const lockWait = 200 * time.Millisecond

var bucket = []byte("positions")

// OpenDir returns the store kept in dir. Nothing is touched until first
// use: the directory is created on the first Save, and each pipeline's file
// is opened (and locked) when first needed and kept open until Close.
func OpenDir(dir string) *DirStore {
	return &DirStore{dir: dir, dbs: map[string]*bolt.DB{}}
}

// Dir is the directory the store keeps its files in.
func (s *DirStore) Dir() string { return s.dir }

// File is the path of the file that holds a pipeline's positions.
func (s *DirStore) File(pipeline string) string {
	return filepath.Join(s.dir, fileName(pipeline)+".positions")
}

// fileName keeps a pipeline name usable as a file name on every system.
func fileName(pipeline string) string {
	var b strings.Builder
	for _, r := range pipeline {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "%%%02x", r)
		}
	}
	if b.Len() == 0 || strings.Trim(b.String(), ".") == "" {
		return "pipeline" + b.String()
	}
	return b.String()
}

func (s *DirStore) db(pipeline string, create bool) (*bolt.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if db := s.dbs[pipeline]; db != nil {
		return db, nil
	}
	path := s.File(pipeline)
	if !create {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	} else if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: lockWait})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s is locked; is another weave running pipeline %q?", ErrLocked, path, pipeline)
	}
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	s.dbs[pipeline] = db
	return db, nil
}

// keyBytes orders a pipeline's keys by step, then split.
func keyBytes(k Key) []byte {
	return []byte(k.Step + "\x00" + k.Split)
}

func (s *DirStore) Load(_ context.Context, key Key) (Record, error) {
	db, err := s.db(key.Pipeline, false)
	if err != nil || db == nil {
		return Record{}, err
	}
	var rec Record
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		return decode(b.Get(keyBytes(key)), &rec)
	})
	if err != nil {
		return Record{}, fmt.Errorf("position %s: %w", key, err)
	}
	return rec, nil
}

func decode(v []byte, rec *Record) error {
	if v == nil {
		return nil
	}
	return json.Unmarshal(v, rec)
}

func (s *DirStore) Save(_ context.Context, key Key, rec Record) (uint64, error) {
	db, err := s.db(key.Pipeline, true)
	if err != nil {
		return 0, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		var old Record
		if err := decode(b.Get(keyBytes(key)), &old); err != nil {
			return err
		}
		if old.Revision != rec.Revision {
			return fmt.Errorf("%w (revision %d, expected %d)", ErrStale, old.Revision, rec.Revision)
		}
		rec.Revision++
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return b.Put(keyBytes(key), v)
	})
	if err != nil {
		return 0, fmt.Errorf("save position %s: %w", key, err)
	}
	return rec.Revision, nil
}

func (s *DirStore) Delete(_ context.Context, key Key) error {
	db, err := s.db(key.Pipeline, false)
	if err != nil || db == nil {
		return err
	}
	return db.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucket); b != nil {
			return b.Delete(keyBytes(key))
		}
		return nil
	})
}

func (s *DirStore) List(_ context.Context, pipeline string) ([]Entry, error) {
	db, err := s.db(pipeline, false)
	if err != nil || db == nil {
		return nil, err
	}
	var out []Entry
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			step, split, _ := bytes.Cut(k, []byte{0})
			e := Entry{Key: Key{Pipeline: pipeline, Step: string(step), Split: string(split)}}
			if err := decode(v, &e.Record); err != nil {
				return fmt.Errorf("%s: %w", e.Key, err)
			}
			out = append(out, e)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Key, out[j].Key
		return a.Step < b.Step || a.Step == b.Step && a.Split < b.Split
	})
	return out, err
}

// Close closes every pipeline file the store opened.
func (s *DirStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for name, db := range s.dbs {
		errs = append(errs, db.Close())
		delete(s.dbs, name)
	}
	return errors.Join(errs...)
}
