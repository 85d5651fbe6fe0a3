package kafka

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// A group of two sources on one topic of groupParts partitions holding
// groupRecords records, record i in partition i%groupParts with id i.
const (
	groupParts   = 4
	groupRecords = 400
	perPart      = groupRecords / groupParts
)

// groupCluster starts a cluster that accepts short session timeouts, with
// the topic "in" filled (fillGroupTopic), and returns it with its brokers.
func groupCluster(t *testing.T) (*kfake.Cluster, string) {
	t.Helper()
	c, brokers := emptyGroupCluster(t)
	fillGroupTopic(t, brokers, 0, groupRecords)
	return c, brokers
}

func emptyGroupCluster(t *testing.T) (*kfake.Cluster, string) {
	t.Helper()
	return startClusterWith(t, kfake.NumBrokers(1), kfake.SeedTopics(groupParts, "in"),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
}

// fillGroupTopic writes the records from id from to id to-1 of "in":
// record i in partition i%groupParts at offset i/groupParts.
func fillGroupTopic(t *testing.T, brokers string, from, to int) {
	t.Helper()
	var recs []*kgo.Record
	for i := from; i < to; i++ {
		recs = append(recs, &kgo.Record{Topic: "in", Partition: int32(i % groupParts), Value: fmt.Appendf(nil, `{"id": %d}`, i)})
	}
	produceManual(t, brokers, recs...)
}

// groupConf is a source of the group with a short session, so that a
// member that vanishes is replaced in well under a second.
func groupConf(brokers, group string) string {
	return fmt.Sprintf("{brokers: %s, topics: [in], group: %s, stop_at_end: true, metadata: true, schema: {id: int64}, "+
		"session_timeout: 600ms, heartbeat_interval: 100ms, rebalance_timeout: 5s}", brokers, group)
}

// row is one record as a source delivered it.
type row struct {
	id, offset int64
	partition  int32
}

// read is a batch as a source delivered it.
type read struct {
	cp   Checkpoint
	rows []row
	at   time.Time
}

// readRows reads batches from src until it has at least n rows.
func readRows(t *testing.T, src *Source, n int) []read {
	t.Helper()
	var out []read
	for got := 0; got < n; {
		b, err := src.Read(context.Background())
		if err != nil {
			t.Fatalf("read after %d rows: %v", got, err)
		}
		out = append(out, toRead(b))
		got += len(out[len(out)-1].rows)
	}
	return out
}

// toRead takes a batch's rows (id, _partition, _offset) and releases it.
func toRead(b *engine.Batch) read {
	defer b.Record.Release()
	r := read{cp: b.Checkpoint.(Checkpoint), at: time.Now()}
	ids := b.Record.Column(0).(*array.Int64)
	parts := b.Record.Column(3).(*array.Int32)
	offs := b.Record.Column(4).(*array.Int64)
	for i := range int(b.Record.NumRows()) {
		r.rows = append(r.rows, row{id: ids.Value(i), partition: parts.Value(i), offset: offs.Value(i)})
	}
	return r
}

// owned returns the partitions of "in" src owns, sorted.
func owned(src *Source) []int32 {
	src.mu.Lock()
	defer src.mu.Unlock()
	var ps []int32
	for k := range src.owned {
		ps = append(ps, k.partition)
	}
	slices.Sort(ps)
	return ps
}

// waitOwned waits (without a limit: a hang is go test -timeout's to
// report) until a and b own two partitions each.
func waitOwned(a, b *Source) {
	for len(owned(a)) != groupParts/2 || len(owned(b)) != groupParts/2 {
		time.Sleep(10 * time.Millisecond)
	}
}

// committed returns the group's committed offset per partition of "in"
// (absent: none).
func committed(t *testing.T, brokers, group string) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokerList(brokers)...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).FetchOffsets(context.Background(), group)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == "in" && o.At >= 0 {
			out[o.Partition] = o.At
		}
	})
	return out
}

// memberOf returns the member id and generation src's client has in its
// group.
func memberOf(src *Source) (string, int32) {
	src.mu.Lock()
	cl := src.cl
	src.mu.Unlock()
	return cl.GroupMetadata()
}

func openGroupSource(t *testing.T, mem memory.Allocator, conf string) *Source {
	t.Helper()
	src := mustSource(t, conf, conformance.Build(mem, 25, "source"))
	if _, err := src.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// TestRevokedPartitions: a member that read every partition alone loses
// half of them to a second member. Offsets it acknowledged but whose
// commit the broker refused (a rebalance in progress) are committed
// before the partitions are given up; a later Ack of batches read before
// the rebalance commits the partitions it kept and leaves the revoked
// ones alone; the new owner starts at what was committed there and reads
// the unacknowledged records again.
func TestRevokedPartitions(t *testing.T) {
	mem := conformance.Checked(t)
	c, brokers := emptyGroupCluster(t)
	conf := groupConf(brokers, "g")
	// Half of every partition is read and acknowledged, the other half
	// read only.
	fillGroupTopic(t, brokers, 0, groupRecords/2)
	a := openGroupSource(t, mem, conf)
	reads := readRows(t, a, groupRecords/2)
	first := reads[len(reads)-1].cp
	if len(first.Offsets["in"]) != groupParts {
		t.Fatalf("the first half was read as %v, want every partition", first)
	}

	// The broker refuses a's first commit as if a rebalance had begun:
	// Ack keeps the offsets for later instead of failing the pipeline.
	member, _ := memberOf(a)
	c.ControlKey(kmsg.OffsetCommit.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		req := kr.(*kmsg.OffsetCommitRequest)
		if req.MemberID != member {
			return nil, nil, false
		}
		return refuseCommit(req, kerr.RebalanceInProgress), nil, true
	})
	if err := a.Ack(context.Background(), first); err != nil {
		t.Fatalf("Ack while the group rebalances: %v", err)
	}
	if got := committed(t, brokers, "g"); len(got) != 0 {
		t.Fatalf("committed %v although the broker refused the commit", got)
	}
	fillGroupTopic(t, brokers, groupRecords/2, groupRecords)
	reads = append(reads, readRows(t, a, groupRecords/2)...)

	b := openGroupSource(t, mem, conf)
	waitOwned(a, b)
	revoked := owned(b)
	// Every partition, revoked or kept, is committed where the refused Ack
	// put it: a committed its acknowledged offsets before giving any up.
	if got := committed(t, brokers, "g"); !maps.Equal(got, first.Offsets["in"]) {
		t.Fatalf("after the rebalance the group committed %v, want the acknowledged %v", got, first.Offsets["in"])
	}

	// Acknowledging everything a read commits a's own partitions to their
	// end, and nothing of the revoked ones: b owns them now.
	last := reads[len(reads)-1].cp
	if err := a.Ack(context.Background(), last); err != nil {
		t.Fatal(err)
	}
	want := maps.Clone(first.Offsets["in"])
	for _, p := range owned(a) {
		want[p] = perPart
	}
	if got := committed(t, brokers, "g"); !maps.Equal(got, want) {
		t.Fatalf("after acknowledging every batch the group committed %v, want %v (revoked %v left as acknowledged before)", got, want, revoked)
	}

	// b reads the revoked partitions from their committed offsets: the
	// records a read but did not acknowledge come again, none is missing.
	start := map[int32]int64{}
	seen := map[int64]int{}
	for _, r := range readUntilEnd(t, b) {
		for _, x := range r.rows {
			if _, ok := start[x.partition]; !ok {
				start[x.partition] = x.offset
			}
			seen[x.id]++
		}
		if err := b.Ack(context.Background(), r.cp); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range revoked {
		if start[p] != want[p] {
			t.Errorf("b started partition %d at offset %d, want the committed %d", p, start[p], want[p])
		}
		for off := want[p]; off < perPart; off++ {
			if id := off*groupParts + int64(p); seen[id] != 1 {
				t.Errorf("b read id %d (partition %d offset %d) %d times, want once", id, p, off, seen[id])
			}
		}
	}
	for p, o := range committed(t, brokers, "g") {
		if o != perPart {
			t.Errorf("partition %d committed at %d at the end, want %d", p, o, perPart)
		}
	}
}

// refuseCommit answers an OffsetCommit with err for every partition.
func refuseCommit(req *kmsg.OffsetCommitRequest, err *kerr.Error) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, rt := range req.Topics {
		t := kmsg.NewOffsetCommitResponseTopic()
		t.Topic, t.TopicID = rt.Topic, rt.TopicID
		for _, rp := range rt.Partitions {
			p := kmsg.NewOffsetCommitResponseTopicPartition()
			p.Partition, p.ErrorCode = rp.Partition, err.Code
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// readUntilEnd reads src until ErrEndOfInput.
func readUntilEnd(t *testing.T, src *Source) []read {
	t.Helper()
	var out []read
	for {
		b, err := src.Read(context.Background())
		if errors.Is(err, engine.ErrEndOfInput) {
			return out
		}
		if err != nil {
			t.Errorf("read: %v", err)
			return out
		}
		out = append(out, toRead(b))
	}
}

// TestKilledMemberPartitionsTakenOver: of two members, one vanishes
// without leaving the group (its LeaveGroup never reaches the broker, as
// after a SIGKILL). With a short session_timeout the other takes its
// partitions over once the session expires, from the offsets the dead
// member committed; every record is acknowledged by a or read by b (none
// lost) and every partition ends committed at its end.
func TestKilledMemberPartitionsTakenOver(t *testing.T) {
	mem := conformance.Checked(t)
	c, brokers := groupCluster(t)
	conf := groupConf(brokers, "g")
	a := openGroupSource(t, mem, conf)
	aReads := readRows(t, a, groupRecords/4)
	if err := a.Ack(context.Background(), aReads[0].cp); err != nil {
		t.Fatal(err)
	}

	b := openGroupSource(t, mem, conf)
	var (
		wg     sync.WaitGroup
		bReads []read
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			bt, err := b.Read(context.Background())
			if errors.Is(err, engine.ErrEndOfInput) {
				return
			}
			if err != nil {
				t.Errorf("b read: %v", err)
				return
			}
			r := toRead(bt)
			bReads = append(bReads, r)
			if err := b.Ack(context.Background(), r.cp); err != nil {
				t.Errorf("b ack: %v", err)
				return
			}
		}
	}()
	waitOwned(a, b)
	aParts := owned(a)

	// The kill: a's LeaveGroup is answered without reaching the group, so
	// the group keeps a as a member until its session times out.
	member, _ := memberOf(a)
	c.ControlKey(kmsg.LeaveGroup.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		req := kr.(*kmsg.LeaveGroupRequest)
		if req.MemberID != member && (len(req.Members) == 0 || req.Members[0].MemberID != member) {
			return nil, nil, false
		}
		return req.ResponseKind(), nil, true
	})
	killed := time.Now()
	a.Close()
	wg.Wait()

	// Only a's acknowledged batch counts as done: the rows a read after it
	// died with a, and must come again from b.
	seen := map[int64]bool{}
	for _, x := range aReads[0].rows {
		seen[x.id] = true
	}
	var takeover time.Time
	for _, r := range bReads {
		for _, x := range r.rows {
			seen[x.id] = true
			if takeover.IsZero() && slices.Contains(aParts, x.partition) && r.at.After(killed) {
				takeover = r.at
			}
		}
	}
	for id := range int64(groupRecords) {
		if !seen[id] {
			t.Errorf("record %d was neither acknowledged by a nor read by b", id)
		}
	}
	if takeover.IsZero() {
		t.Fatalf("b never read from a's partitions %v", aParts)
	}
	t.Logf("b read from a's partitions %v %v after a vanished (session_timeout 600ms)", aParts, takeover.Sub(killed).Round(time.Millisecond))
	for p := range int32(groupParts) {
		if o := committed(t, brokers, "g")[p]; o != perPart {
			t.Errorf("partition %d committed at %d, want %d", p, o, perPart)
		}
	}
}

// TestLostPartitions: a member's session is lost (the broker answers its
// heartbeat UNKNOWN_MEMBER_ID, as after it was kicked for missing its
// session timeout). Reading goes on (kgo rejoins; the poll's group error
// is not the pipeline's), and once the member has rejoined — with a
// generation the broker would accept a commit under — an Ack of batches
// read before the loss commits nothing: those records are read again.
func TestLostPartitions(t *testing.T) {
	mem := conformance.Checked(t)
	c, brokers := groupCluster(t)
	a := openGroupSource(t, mem, groupConf(brokers, "g"))
	before := readRows(t, a, groupRecords/2)
	member, gen := memberOf(a)
	c.ControlKey(kmsg.Heartbeat.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		req := kr.(*kmsg.HeartbeatRequest)
		if req.MemberID != member {
			return nil, nil, false
		}
		resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp, nil, true
	})
	// Read on through the loss until a is a member of a later generation
	// and owns partitions again.
	var again []read
	for {
		if _, g := memberOf(a); g > gen && len(owned(a)) > 0 {
			break
		}
		b, err := a.Read(context.Background())
		if errors.Is(err, engine.ErrEndOfInput) {
			continue
		}
		if err != nil {
			t.Fatalf("read across the lost session: %v", err)
		}
		again = append(again, toRead(b))
	}
	if err := a.Ack(context.Background(), before[len(before)-1].cp); err != nil {
		t.Fatal(err)
	}
	if got := committed(t, brokers, "g"); len(got) != 0 {
		t.Fatalf("an Ack of batches read before the session was lost committed %v", got)
	}
	_, now := memberOf(a)
	t.Logf("%d batches read across the loss; generation %d became %d", len(again), gen, now)
}

// TestRecordsPolledAcrossALoss: records a poll returns after their
// partition was lost and assigned again (the poll began in the old
// session) still go out as rows, but their offsets are left out of the
// batch: the new session starts from the committed offset, and a commit
// of the old session's offsets would rewind whoever owned the partition
// in between.
func TestRecordsPolledAcrossALoss(t *testing.T) {
	mem := conformance.Checked(t)
	// No broker: the bookkeeping is driven by hand, as kgo would.
	src := mustSource(t, "{brokers: [\"127.0.0.1:1\"], topics: [in], group: g, schema: {id: int64}}", conformance.Build(mem, 10, "source"))
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	src.onAssigned(ctx, nil, map[string][]int32{"in": {0, 1}})
	src.mu.Lock()
	since := src.epoch // the poll begins
	src.mu.Unlock()
	src.onLost(ctx, nil, map[string][]int32{"in": {0}})
	src.onAssigned(ctx, nil, map[string][]int32{"in": {0}})
	recs := []*kgo.Record{
		{Topic: "in", Partition: 0, Offset: 5, Value: []byte(`{"id": 1}`)},
		{Topic: "in", Partition: 1, Offset: 7, Value: []byte(`{"id": 2}`)},
	}
	b, err := src.decode(recs, since)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Record.Release()
	if b.Record.NumRows() != 2 {
		t.Errorf("%d rows, want both records", b.Record.NumRows())
	}
	if got := b.Checkpoint.(Checkpoint).String(); got != "in: p1@8" {
		t.Errorf("checkpoint %q, want in: p1@8 (partition 0 was lost since the poll began)", got)
	}
	// A poll that begins in the new session counts for partition 0.
	src.mu.Lock()
	since = src.epoch
	src.mu.Unlock()
	b2, err := src.decode(recs[:1], since)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Record.Release()
	if got := b2.Checkpoint.(Checkpoint).String(); got != "in: p0@6, p1@8" {
		t.Errorf("checkpoint %q, want in: p0@6, p1@8", got)
	}
}

// TestCloseCommitsAcknowledged: offsets acknowledged while the broker
// refused commits are committed when the source leaves the group, and
// nothing read after them is.
func TestCloseCommitsAcknowledged(t *testing.T) {
	mem := conformance.Checked(t)
	c, brokers := groupCluster(t)
	a := openGroupSource(t, mem, groupConf(brokers, "g"))
	reads := readRows(t, a, groupRecords/2)
	member, _ := memberOf(a)
	c.ControlKey(kmsg.OffsetCommit.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		req := kr.(*kmsg.OffsetCommitRequest)
		if req.MemberID != member {
			return nil, nil, false
		}
		return refuseCommit(req, kerr.RebalanceInProgress), nil, true
	})
	acked := reads[len(reads)/2].cp
	if err := a.Ack(context.Background(), acked); err != nil {
		t.Fatalf("Ack refused mid-rebalance: %v", err)
	}
	if got := committed(t, brokers, "g"); len(got) != 0 {
		t.Fatalf("committed %v although the broker refused the commit", got)
	}
	a.Close()
	if got := committed(t, brokers, "g"); !maps.Equal(got, acked.Offsets["in"]) {
		t.Errorf("after Close the group committed %v, want the acknowledged %v", got, acked.Offsets["in"])
	}
}
