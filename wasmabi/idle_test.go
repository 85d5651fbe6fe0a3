package wasmabi

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// TestIdleWatermarkLies: a stateful stage resumed with an event time
// (the host's 8 bytes of its snapshot) is advanced on idle; its
// dw_watermark answers with an origin, a lie from a call of no input
// row. Idle fails naming the export, fatally (the state is lost, whatever
// on_error says), and every call after says so.
func TestIdleWatermarkLies(t *testing.T) {
	ctx := context.Background()
	tsSchema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Second}}}, nil)
	m := stateModule(v2State, absent, v2Snap, 0, map[uint32][]byte{v2Snap: words(v2Values, 8)})
	m.exports[exportWatermark] = v2Finish
	m.data[v2Finish] = words(statusOK, 0, 0, 2, v2Finish+192, 1, v2Finish+64, 0, 0, 0)
	m.data[v2Finish+64] = desc(0, codeInt32, 0, 0, v2Finish+128, 8)
	m.data[v2Finish+128] = words(7, 8)
	m.data[v2Finish+192] = words(0, noOrigin)
	s := newStageOf(t, "v2.wasm", m.bytes(), nil, conformance.Checked(t), testConfig().WithEventTime("ts", 0).WithIdleAdvance(time.Second))
	if _, err := s.Bind(ctx, tsSchema); err != nil {
		t.Fatal(err)
	}
	state := binary.LittleEndian.AppendUint64(nil, 100) // the host's event time
	if err := s.Restore(ctx, append(state, "mod's"...)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Idle(ctx, time.Second)
	wantGuestErr(t, err, ErrGuestOutput, exportWatermark, 0, "idle advance: ", "emitted row 0 gives input row 0 as its origin, but the call had 0 input rows")
	if !engine.IsFatal(err) {
		t.Error("a failed idle advance of a stateful stage is not fatal")
	}
	if _, err := s.Idle(ctx, time.Second); !errors.Is(err, ErrStateLost) {
		t.Errorf("the idle advance after: %v, want ErrStateLost", err)
	}
}
