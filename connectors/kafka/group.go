package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dataweaver/dataweaver/engine"
)

// Ownership and commits in a group of several members.
//
// Three goroutines meet here: the engine's reader (Read, which registers
// each batch's offsets), the engine's acknowledger (Ack, which commits
// them) and kgo's group manager, which calls onAssigned, onRevoked and
// onLost while the other two run (the source does not use
// BlockRebalanceOnPoll, which would hold rebalances for as long as a batch
// takes to fill). Two locks:
//
//   - s.mu guards the bookkeeping (pending, acked, owned, gone, epoch,
//     read) and is never held across a request;
//   - s.commitMu is held by every commit from gathering its offsets until
//     the broker answered, and by onRevoked and onLost for their whole
//     run. A partition is therefore given up only once no commit that
//     still names it is in flight: Ack cannot gather a partition's offset,
//     lose the race with a revoke, and commit it after the new owner
//     committed further (which would rewind the new owner), nor commit it
//     after a lost session was rejoined with a new generation the broker
//     would accept. Order: commitMu before mu.
//
// kgo calls onRevoked outside its join/sync, so a commit made there (or an
// Ack's commit onRevoked waits for) is not held back by the rebalance it
// is part of.

// tp names a partition.
type tp struct {
	topic     string
	partition int32
}

// onAssigned notes partitions this member now owns. kgo calls it before
// fetching them, so every record polled from a partition is polled after
// its assignment.
func (s *Source) onAssigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, ps := range assigned {
		for _, p := range ps {
			s.owned[tp{t, p}] = true
		}
	}
	s.log.Debug("kafka: partitions assigned", "step", s.name, "group", s.group, "partitions", assigned)
}

// onRevoked commits what the engine acknowledged and no commit has stored
// yet (an Ack the broker refused mid-rebalance), then gives the revoked
// partitions up: their unacknowledged offsets are dropped, so a later Ack
// of a batch read from them commits nothing there. Their records not yet
// acknowledged are read again by the partition's next owner
// (at-least-once). kgo calls it in a cooperative rebalance for the
// partitions that move, in an eager one for all, when the client leaves
// the group (Close), and at the end of every group session, with no
// partitions: then it only commits (kgo rejoins after a commit refused
// for a stale generation, so that commit is made here).
func (s *Source) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.Lock()
	offsets := s.ackedOwned()
	s.forget(revoked)
	s.mu.Unlock()
	if len(offsets) > 0 {
		// Bounded: the group waits for this member's rejoin at most its
		// rebalance timeout; a commit that cannot be made by then is
		// given up, and the new owner reads those records again.
		cctx, cancel := context.WithTimeout(ctx, s.rebalanceTimeout)
		_, err := s.commit(cctx, cl, offsets)
		cancel()
		if err != nil {
			s.log.Warn("kafka: committing acknowledged offsets before giving partitions up failed; their next owner reads those records again",
				"step", s.name, "group", s.group, "revoked", revoked, "err", err)
		}
	}
	if len(revoked) > 0 {
		s.log.Info("kafka: partitions revoked", "step", s.name, "group", s.group, "partitions", revoked)
	}
}

// onLost gives partitions up without committing: kgo calls it when this
// member's session is gone (it missed its session timeout, was fenced, or
// the group failed), so a commit would be refused and the partitions may
// already have a new owner. Holding commitMu makes an Ack commit in flight
// finish first, with the old generation the broker refuses, instead of
// after the client has rejoined.
func (s *Source) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.Lock()
	s.forget(lost)
	s.mu.Unlock()
	if len(lost) > 0 {
		s.log.Warn("kafka: partitions lost with the group session; records read from them and not yet committed are read again by their next owner",
			"step", s.name, "group", s.group, "partitions", lost)
	}
}

// forget drops every trace of partitions this member no longer owns and
// starts a new epoch: records polled before this point are not trusted
// for those partitions (see owns). Called with s.mu held.
func (s *Source) forget(parts map[string][]int32) {
	if len(parts) == 0 {
		return
	}
	s.epoch++
	for t, ps := range parts {
		for _, p := range ps {
			k := tp{t, p}
			delete(s.owned, k)
			delete(s.acked, k)
			delete(s.lag, k)
			delete(s.lagAsked, k)
			s.gone[k] = s.epoch
			if s.read[t] != nil {
				delete(s.read[t], p)
				if len(s.read[t]) == 0 {
					delete(s.read, t)
				}
			}
			for i := range s.pending {
				if o := s.pending[i].offsets[t]; o != nil {
					delete(o, p)
				}
			}
		}
	}
}

// owns reports whether records of k polled in a poll that began at epoch
// since may be committed: k is owned now and was not revoked or lost
// since the poll began (a poll in flight across a revoke can return the
// partition's records; if the partition then came back, its new session
// starts from the committed offset, and those records' offsets belong to
// the old one). Called with s.mu held.
func (s *Source) owns(k tp, since uint64) bool {
	return s.owned[k] && s.gone[k] <= since
}

// ackedOwned returns the acknowledged, not yet committed offsets of the
// partitions this member owns. Called with s.mu held.
func (s *Source) ackedOwned() map[string]map[int32]kgo.EpochOffset {
	out := map[string]map[int32]kgo.EpochOffset{}
	for k, o := range s.acked {
		if !s.owned[k] {
			continue
		}
		if out[k.topic] == nil {
			out[k.topic] = map[int32]kgo.EpochOffset{}
		}
		out[k.topic][k.partition] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	return out
}

// Ack commits the offsets of every batch up to and including cp's, for the
// partitions this member still owns, and returns once the group
// coordinator has stored them. A partition revoked or lost since its
// records were read is skipped: its next owner reads them again.
//
// A commit the broker refuses because the group moved on (a rebalance in
// progress, or this member's generation is stale) does not fail the
// pipeline: the offsets stay acknowledged and are committed by the next
// Ack or before the partitions are given up, or dropped when kgo reports
// them lost. Any other failure is returned.
func (s *Source) Ack(ctx context.Context, cp engine.Checkpoint) error {
	c, ok := cp.(Checkpoint)
	if !ok {
		return fmt.Errorf("kafka: Ack with a checkpoint of type %T", cp)
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	s.mu.Lock()
	for len(s.pending) > 0 && s.pending[0].seq <= c.Batch {
		for t, ps := range s.pending[0].offsets {
			for p, o := range ps {
				// forget removed offsets of partitions given up, so
				// what is left here is owned.
				k := tp{t, p}
				s.acked[k] = max(s.acked[k], o)
			}
		}
		s.pending = s.pending[1:]
	}
	offsets := s.ackedOwned()
	cl := s.cl
	s.mu.Unlock()
	if len(offsets) == 0 {
		return nil
	}
	if cl == nil {
		return errClosed
	}
	if s.beforeCommit != nil {
		s.beforeCommit()
	}
	stale, err := s.commit(ctx, cl, offsets)
	if err != nil {
		return fmt.Errorf("kafka: commit offsets of batch %d for group %q: %w", c.Batch, s.group, err)
	}
	if stale != nil {
		s.log.Warn("kafka: the group refused a commit during a rebalance; it is retried with the next acknowledgement",
			"step", s.name, "group", s.group, "batch", c.Batch, "err", stale)
	}
	return nil
}

// commit commits offsets synchronously and removes from s.acked what the
// broker stored. Partitions refused because the group moved on
// (rebalanceErr) stay acknowledged; the first such refusal is returned as
// stale. err is any other failure. Called with s.commitMu held.
func (s *Source) commit(ctx context.Context, cl *kgo.Client, offsets map[string]map[int32]kgo.EpochOffset) (stale, err error) {
	var done []tp
	cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, rerr error) {
		if rerr != nil {
			err = rerr
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				perr := kerr.ErrorForCode(p.ErrorCode)
				switch {
				case perr == nil:
					done = append(done, tp{t.Topic, p.Partition})
				case rebalanceErr(perr):
					if stale == nil {
						stale = fmt.Errorf("%s/%d: %w", t.Topic, p.Partition, perr)
					}
				case err == nil:
					err = fmt.Errorf("%s/%d: %w", t.Topic, p.Partition, perr)
				}
			}
		}
	})
	// Nothing else changes s.acked while commitMu is held, but the reader
	// may be registering a batch: take s.mu.
	s.mu.Lock()
	for _, k := range done {
		delete(s.acked, k)
	}
	s.mu.Unlock()
	return stale, err
}

// rebalanceErr reports whether err means the group has moved on from
// this member's view of it, so a commit is refused now but this member
// either rejoins and commits again or loses the partitions.
func rebalanceErr(err error) bool {
	return errors.Is(err, kerr.RebalanceInProgress) || errors.Is(err, kerr.IllegalGeneration) ||
		errors.Is(err, kerr.UnknownMemberID) || errors.Is(err, kerr.StaleMemberEpoch) ||
		errors.Is(err, kerr.FencedMemberEpoch)
}

// groupErr sorts an error kgo injects into a poll when its group session
// ends: a lost membership that kgo recovers from by
// rejoining returns nil (the partitions were given up in onLost), any
// other is the pipeline's error.
func (s *Source) groupErr(gs *kgo.ErrGroupSession) error {
	inner := gs.Err
	if rebalanceErr(inner) || kerr.IsRetriable(inner) || errors.Is(inner, context.DeadlineExceeded) {
		s.log.Warn("kafka: group session ended; rejoining", "step", s.name, "group", s.group, "err", inner)
		return nil
	}
	if errors.Is(inner, kerr.InvalidSessionTimeout) {
		return fmt.Errorf("kafka: join group %q: %w: session_timeout (%v) must lie within the brokers' "+
			"group.min.session.timeout.ms and group.max.session.timeout.ms (by default 6s and 30m)",
			s.group, inner, s.sessionTimeout)
	}
	if errors.Is(inner, kerr.FencedInstanceID) {
		return fmt.Errorf("kafka: group %q: %w: another process joined with instance_id %q; give each process "+
			"its own (${HOSTNAME}, a systemd unit's %%i)", s.group, inner, s.instanceID)
	}
	return fmt.Errorf("kafka: group %q: %w", s.group, inner)
}
