package kafka

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/connectors/conformance"
)

// staticConf is groupConf with an instance_id and a session long enough
// that a restart comes back inside it.
func staticConf(brokers, group, id string) string {
	return strings.Replace(groupConf(brokers, group), "session_timeout: 600ms",
		fmt.Sprintf("session_timeout: 20s, instance_id: %s", id), 1)
}

// TestStaticMemberRestartMovesNothing: of two static members, one stops
// (a static member sends no LeaveGroup, as after a SIGKILL) and starts
// again under the same instance_id. It gets its old partitions back and
// the other member gives up nothing and gets nothing: its reading goes on
// undisturbed. A dynamic member's stop instead hands its partitions to
// the other member, and its restart takes them back (two revokes).
func TestStaticMemberRestartMovesNothing(t *testing.T) {
	mem := conformance.Checked(t)
	_, brokers := groupCluster(t)
	a := openGroupSource(t, mem, staticConf(brokers, "g", "worker-a"))
	readRows(t, a, 1) // a owns every partition
	b := openGroupSource(t, mem, staticConf(brokers, "g", "worker-b"))
	waitOwned(a, b)
	aParts, bParts := owned(a), owned(b)
	_, bGen := memberOf(b)

	a.Close()
	// A restart takes a while: ten of b's heartbeats, in which a dynamic
	// member's leave would have handed b every partition.
	time.Sleep(time.Second)
	a2 := openGroupSource(t, mem, staticConf(brokers, "g", "worker-a"))
	for !slices.Equal(owned(a2), aParts) {
		if got := owned(b); !slices.Equal(got, bParts) {
			t.Fatalf("b owns %v after a's restart, want its own %v untouched", got, bParts)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The group may go through a generation (kgo's cooperative
	// subscription names the partitions a member owns, and a restarted
	// one owns none yet), but a cooperative one that moves nothing.
	if _, gen := memberOf(b); gen != bGen {
		t.Logf("b's generation went from %d to %d", bGen, gen)
	}
	b.mu.Lock()
	epoch := b.epoch
	b.mu.Unlock()
	if epoch != 0 {
		t.Errorf("b gave partitions up %d times during a's restart, want none", epoch)
	}
}

// TestInstanceIDFenced: a second process under an instance_id already in
// the group fences the first, whose next read fails naming the id.
func TestInstanceIDFenced(t *testing.T) {
	mem := conformance.Checked(t)
	_, brokers := groupCluster(t)
	a := openGroupSource(t, mem, staticConf(brokers, "g", "worker-a"))
	readRows(t, a, 1)
	openGroupSource(t, mem, staticConf(brokers, "g", "worker-a"))
	for {
		b, err := a.Read(t.Context())
		if err != nil {
			if !strings.Contains(err.Error(), `instance_id "worker-a"`) {
				t.Fatalf("the fenced member failed with %v, want an error naming its instance_id", err)
			}
			return
		}
		b.Record.Release()
	}
}

// TestInstanceIDEmpty: an instance_id that expanded to nothing is refused
// rather than joining as a dynamic member unnoticed.
func TestInstanceIDEmpty(t *testing.T) {
	_, err := build(t, "source", `{brokers: [localhost:1], topics: [in], group: g, schema: {id: int64}, instance_id: ""}`,
		conformance.Build(conformance.Checked(t), 25, "source"))
	if err == nil || !strings.Contains(err.Error(), "instance_id is empty") {
		t.Fatalf("got %v, want instance_id is empty", err)
	}
}
