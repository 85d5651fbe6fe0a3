/*
 * nestout exercises the C SDK's nested output builders (dw_child,
 * dw_begin/dw_end, dw_put_list_*, dw_put_null at each level). The Go and
 * Rust SDKs' nestout stages write the same columns, and
 * transforms/v2test/nestout_test.go checks all three against values it
 * builds with arrow-go. It reads int64 "n" (v below) and emits one row per
 * input row, from it:
 *
 *   l   list<int64>: null when v%5 == 0; else v%4 items: v+k as a whole
 *       slice (dw_put_list_int64) when v is even, else 10v+k with item 1
 *       null;
 *   s   struct<a:int64,b:utf8,c:list<utf8>>: null when v%7 == 0; else a =
 *       v, b = words[v%4] (null when v%3 == 0), c = words[(v+k)%4] for
 *       k < v%3;
 *   m   map<utf8,float64>: null when v%6 == 5; else keys words[k+1] for
 *       k < v%3, values v+k/2 (null for k == 1);
 *   ls  list<struct<x:int64,y:bool>>: v%3 items, item k null when
 *       (v+k)%4 == 3, else x = 100v+k, y = k is even;
 *   ll  list<list<int32>>: v%3 lists, list k holding v+j for j < k.
 *
 * Config "misuse" makes it break a rule instead, to test the SDK's
 * guards: "unended" (a list row begun and not ended), "outside" (an item
 * put outside dw_begin/dw_end), "twice" (two values for a struct field),
 * "missing" (a struct row ended without a field), "mapkeys" (a map row
 * with a key and no value), or "utf8" (a utf8 field not UTF-8: the SDK
 * does not check it, the host refuses it).
 */
#include "dataweaver.h"

static dw_col n;
static dw_out l, l_item, s, s_a, s_b, s_c, s_c_item, m, m_key, m_val, ls, ls_item, ls_x, ls_y, ll, ll_item, ll_item_item;
static dw_str misuse;
static const dw_str words[4] = {{"", 0}, {"a", 1}, {"\xc3\x8e" "le", 4}, {"\xe6\x97\xa5\xe6\x9c\xac", 6}};

static bool is(const char *what) { return misuse.ptr != NULL && strcmp(misuse.ptr, what) == 0; }

static int process(dw_batch *b) {
    dw_view nv = dw_view_of(b, n);
    for (uint32_t i = 0; i < nv.len; i++) {
        int64_t v = nv.i64[i];
        dw_emit(b, i);
        if (v % 5 == 0) {
            dw_put_null(b, l);
        } else if (v % 2 == 0) {
            int64_t items[3];
            for (int64_t k = 0; k < v % 4; k++) items[k] = v + k;
            dw_put_list_int64(b, l, items, (uint32_t)(v % 4));
        } else {
            dw_begin(b, l);
            for (int64_t k = 0; k < v % 4; k++) {
                if (k == 1)
                    dw_put_null(b, l_item);
                else
                    dw_put_int64(b, l_item, 10 * v + k);
            }
            if (!is("unended")) dw_end(b, l);
        }
        if (is("outside")) dw_put_int64(b, l_item, 1);

        if (v % 7 == 0) {
            dw_put_null(b, s);
        } else {
            dw_begin(b, s);
            dw_put_int64(b, s_a, v);
            if (is("twice")) dw_put_int64(b, s_a, v);
            if (v % 3 == 0)
                dw_put_null(b, s_b);
            else
                dw_put_str(b, s_b, is("utf8") ? (dw_str){"\xff", 1} : words[v % 4]);
            if (!is("missing")) {
                dw_begin(b, s_c);
                for (int64_t k = 0; k < v % 3; k++) dw_put_str(b, s_c_item, words[(v + k) % 4]);
                dw_end(b, s_c);
            }
            dw_end(b, s);
        }

        if (v % 6 == 5) {
            dw_put_null(b, m);
        } else {
            dw_begin(b, m);
            for (int64_t k = 0; k < v % 3; k++) {
                dw_put_str(b, m_key, words[k + 1]);
                if (k == 1)
                    dw_put_null(b, m_val);
                else
                    dw_put_float64(b, m_val, (double)v + (double)k / 2);
            }
            if (is("mapkeys")) dw_put_str(b, m_key, words[0]);
            dw_end(b, m);
        }

        dw_begin(b, ls);
        for (int64_t k = 0; k < v % 3; k++) {
            if ((v + k) % 4 == 3) {
                dw_put_null(b, ls_item);
                continue;
            }
            dw_begin(b, ls_item);
            dw_put_int64(b, ls_x, 100 * v + k);
            dw_put_bool(b, ls_y, k % 2 == 0);
            dw_end(b, ls_item);
        }
        dw_end(b, ls);

        dw_begin(b, ll);
        for (int64_t k = 0; k < v % 3; k++) {
            dw_begin(b, ll_item);
            for (int64_t j = 0; j < k; j++) dw_put_int32(b, ll_item_item, (int32_t)(v + j));
            dw_end(b, ll_item);
        }
        dw_end(b, ll);
    }
    return 0;
}

static dw_process_fn setup(dw_setup *st) {
    dw_config_string(st, "misuse", &misuse);
    n = dw_read(st, "n", DW_INT64);
    l = dw_write(st, "l", "list<int64>");
    l_item = dw_child(st, l, 0);
    s = dw_write(st, "s", "struct<a:int64,b:utf8,c:list<utf8>>");
    s_a = dw_field_out(st, s, "a");
    s_b = dw_field_out(st, s, "b");
    s_c = dw_child(st, s, 2);
    s_c_item = dw_child(st, s_c, 0);
    m = dw_write(st, "m", "map<utf8,float64>");
    m_key = dw_child(st, m, 0);
    m_val = dw_child(st, m, 1);
    ls = dw_write(st, "ls", "list<struct<x:int64,y:bool>>");
    ls_item = dw_child(st, ls, 0);
    ls_x = dw_field_out(st, ls_item, "x");
    ls_y = dw_field_out(st, ls_item, "y");
    ll = dw_write(st, "ll", "list<list<int32>>");
    ll_item = dw_child(st, ll, 0);
    ll_item_item = dw_child(st, ll_item, 0);
    return dw_setup_failed(st) ? NULL : process;
}

DW_STAGE_V2(setup)
