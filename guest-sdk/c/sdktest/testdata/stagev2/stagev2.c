/*
 * stagev2 exercises the C SDK's ABI v2 (stage_test.go's stage covers v1).
 * It reads int64 "id" and utf8 "s" and writes int64 "n", int32 "m", bool
 * "even", utf8 "txt" and float64 "x". For each input row i:
 *
 *   - id < 0: the row is rejected ("negative id"), nothing emitted;
 *   - else one row from i: n = dw_tumble(id, 10), m = id, even = id is
 *     even, txt = s, x = id / 2;
 *   - and when id is a multiple of 3, a second row from i whose five
 *     columns are null.
 *
 * Input columns pass through unless config drop_all is true. The state is
 * the count of rows seen; at end of input a drop_all stage emits one row
 * of no origin with n = that count, txt = "end" and the rest null.
 */
#include "dataweaver.h"

static dw_col id, s;
static dw_out n, m, even, txt, x;
static bool drop_all;
static int64_t seen;

static int process(dw_batch *b) {
    dw_view iv = dw_view_of(b, id), sv = dw_view_of(b, s);
    for (uint32_t i = 0; i < iv.len; i++) {
        seen++;
        int64_t v = iv.i64[i];
        if (v < 0) {
            dw_reject(b, i, "negative id", 11);
            continue;
        }
        dw_emit(b, i);
        dw_put_int64(b, n, dw_tumble(v, 10));
        dw_put_int32(b, m, (int32_t)v);
        dw_put_bool(b, even, v % 2 == 0);
        dw_put_str(b, txt, dw_string(&sv, i));
        dw_put_float64(b, x, (double)v / 2);
        if (v % 3 == 0) {
            dw_emit(b, i);
            dw_put_null(b, n);
            dw_put_null(b, m);
            dw_put_null(b, even);
            dw_put_null(b, txt);
            dw_put_null(b, x);
        }
    }
    return 0;
}

static int finish(dw_batch *b) {
    if (!drop_all) return 0;
    dw_emit(b, DW_NO_ORIGIN);
    dw_put_int64(b, n, seen);
    dw_put_null(b, m);
    dw_put_null(b, even);
    dw_put_str(b, txt, (dw_str){"end", 3});
    dw_put_null(b, x);
    return 0;
}

static void snapshot(dw_state *st) { dw_state_put(st, &seen, 8); }

static const char *restore(const uint8_t *p, uint32_t len) {
    if (len != 8) return "stagev2: want 8 bytes of state";
    memcpy(&seen, p, 8);
    return NULL;
}

static dw_process_fn setup(dw_setup *st) {
    dw_config_bool(st, "drop_all", &drop_all);
    id = dw_read(st, "id", DW_INT64);
    s = dw_read(st, "s", DW_STRING);
    n = dw_write(st, "n", "int64");
    m = dw_write(st, "m", "int32");
    even = dw_write(st, "even", "bool");
    txt = dw_write(st, "txt", "utf8");
    x = dw_write(st, "x", "float64");
    if (drop_all) dw_drop_all(st);
    return process;
}

DW_STAGE_V2(setup)
DW_FINISH(finish)
DW_STATE(snapshot, restore)
