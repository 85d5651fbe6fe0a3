/*
 * dw_nested_out.c — nested output columns of a v2 stage (list, struct,
 * map; wasmabi/ABI.md, "Nested types"): the tree of a declared type's
 * children, each a column of its own that dw_put_* fill; dw_begin and
 * dw_end around a list, map or struct row; the child descriptor blocks
 * the result points to.
 *
 * A child's rows are implied by its parent's (a struct's fields have the
 * struct's rows, a list's items the rows its offsets cover), so the SDK
 * keeps them in step as values are put and refuses a put that would break
 * them (a value outside dw_begin/dw_end, a second value for a struct's
 * field): the host would refuse the result anyway, but its message could
 * not name the call that went wrong.
 */
#include <stdlib.h>
#include <string.h>

#include "dw_internal.h"

struct node {
    const char *path; /* "items.sku", for messages, as the host names it */
    const char *name; /* the last part: a field's name, "item", "key", "value" */
    uint8_t code, width;
    int32_t parent; /* a node, or -1: the node is the output column itself */
    int32_t slot;   /* the output column it belongs to */
    uint32_t kid0, nkids;
    bool open; /* between dw_begin and dw_end */
    struct dw__v2col own; /* a child's rows (a top-level one's are v2's) */
    uint32_t *kdesc;      /* nkids × 8 words: the children's descriptors */
};

static struct {
    struct node *n;
    uint32_t len, cap;
    int32_t *top; /* output slot -> its node, or -1 */
    uint32_t ntop, captop;
    struct dw__v2col *tops; /* the emitted columns of the call */
    dwj_buf msg;
} nodes;

static bool is_nested(uint8_t code) { return code == DW_CODE_LIST || code == DW_CODE_STRUCT || code == DW_CODE_MAP; }

static _Noreturn void die_about(const char *what, const char *path) {
    nodes.msg.len = 0;
    dwj_printf(&nodes.msg, "dataweaver: %s (output column \"%s\")", what, path);
    dw__die(nodes.msg.p);
}

/* split returns the length of the first part of t[0..n) before a comma
 * outside <>, [] and () (n when there is none). */
static size_t split(const char *t, size_t n) {
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c == '<' || c == '[' || c == '(') depth++;
        if (c == '>' || c == ']' || c == ')') depth--;
        if (c == ',' && depth == 0) return i;
    }
    return n;
}

static uint8_t nested_code(const char *t, size_t n, size_t *skip) {
    static const struct {
        const char *prefix;
        uint8_t code;
    } kinds[] = {{"list<", DW_CODE_LIST}, {"struct<", DW_CODE_STRUCT}, {"map<", DW_CODE_MAP}};
    for (size_t i = 0; i < 3; i++) {
        size_t p = strlen(kinds[i].prefix);
        if (n > p && strncmp(t, kinds[i].prefix, p) == 0 && t[n - 1] == '>') {
            *skip = p;
            return kinds[i].code;
        }
    }
    return 0;
}

dw_field *dw__struct_fields(const char *t, size_t n, uint32_t *nf) {
    size_t skip;
    *nf = 0;
    if (nested_code(t, n, &skip) != DW_CODE_STRUCT) return NULL;
    const char *in = t + skip;
    size_t len = n - skip - 1, cnt = 0;
    for (size_t off = 0; off <= len; cnt++) off += split(in + off, len - off) + 1;
    dw_field *f = dw__xmalloc(sizeof *f * cnt);
    size_t off = 0;
    for (size_t i = 0; i < cnt; i++) {
        size_t part = split(in + off, len - off);
        const char *p = in + off, *colon = memchr(p, ':', part);
        size_t nl = colon ? (size_t)(colon - p) : 0;
        f[i].name = dw__xstrndup(p, nl);
        f[i].type = colon ? dw__xstrndup(colon + 1, part - nl - 1) : dw__xstrndup(p, part);
        f[i].nullable = true;
        off += part + 1;
    }
    *nf = (uint32_t)cnt;
    return f;
}

/* declare makes node k of type t[0..n) and, for a nested type, its
 * children, numbered consecutively. */
static void declare(dw_setup *s, uint32_t k, const char *t, size_t n, int depth) {
    size_t skip;
    uint8_t code = nested_code(t, n, &skip);
    const char *path = nodes.n[k].path;
    if (code == 0) {
        char *leaf = dw__xstrndup(t, n);
        uint8_t width;
        code = dw__type_code(leaf, &width);
        if (code == 0 || code == DW_CODE_LARGE_UTF8 || code == DW_CODE_LARGE_BINARY)
            dw_errorf(s, "column \"%s\": type \"%s\" cannot be written (v1 types but large_ ones, or list, struct, map)",
                      path, leaf);
        nodes.n[k].code = code;
        nodes.n[k].width = width;
        free(leaf);
        return;
    }
    nodes.n[k].code = code;
    if (depth > 4) {
        dw_errorf(s, "column \"%s\": nested deeper than 4 levels", path);
        return;
    }
    const char *in = t + skip;
    size_t len = n - skip - 1, nk = 0;
    for (size_t off = 0; off <= len; nk++) off += split(in + off, len - off) + 1;
    if ((code == DW_CODE_LIST && nk != 1) || (code == DW_CODE_MAP && nk != 2)) {
        dw_errorf(s, "column \"%s\": %.*s is not a type", path, (int)n, t);
        return;
    }
    uint32_t kid0 = nodes.len;
    for (size_t i = 0; i < nk; i++) {
        DW_GROW(nodes.n, nodes.len, nodes.cap);
        memset(&nodes.n[nodes.len++], 0, sizeof(struct node));
    }
    nodes.n[k].kid0 = kid0;
    nodes.n[k].nkids = (uint32_t)nk;
    nodes.n[k].kdesc = dw__xmalloc(32 * nk);
    size_t off = 0;
    for (uint32_t i = 0; i < nk; i++) {
        size_t part = split(in + off, len - off);
        const char *kt = in + off, *name = code == DW_CODE_LIST ? "item" : i == 0 ? "key" : "value";
        size_t kn = part, name_len = strlen(name);
        if (code == DW_CODE_STRUCT) {
            const char *colon = memchr(kt, ':', part);
            if (colon == NULL || colon == kt) {
                dw_errorf(s, "column \"%s\": struct field \"%.*s\" has no name", path, (int)part, kt);
                return;
            }
            name = kt, name_len = (size_t)(colon - kt);
            kt = colon + 1, kn = part - name_len - 1;
        }
        struct node *c = &nodes.n[kid0 + i];
        dwj_buf p = {0};
        dwj_printf(&p, "%s.%.*s", nodes.n[k].path, (int)name_len, name);
        c->path = p.p;
        c->name = c->path + strlen(nodes.n[k].path) + 1;
        c->parent = (int32_t)k;
        c->slot = nodes.n[k].slot;
        declare(s, kid0 + i, kt, kn, depth + 1);
        off += part + 1;
    }
}

void dw__nested_declare(dw_setup *s, int32_t slot, const char *name, const char *type) {
    while (nodes.ntop <= (uint32_t)slot) {
        DW_GROW(nodes.top, nodes.ntop, nodes.captop);
        nodes.top[nodes.ntop++] = -1;
    }
    DW_GROW(nodes.n, nodes.len, nodes.cap);
    uint32_t k = nodes.len++;
    memset(&nodes.n[k], 0, sizeof(struct node));
    nodes.n[k].path = nodes.n[k].name = name;
    nodes.n[k].parent = -1;
    nodes.n[k].slot = slot;
    nodes.top[slot] = (int32_t)k;
    declare(s, k, type, strlen(type), 1);
}

/* node_of is the node o names: a child, or a nested output column. */
static uint32_t node_of(dw_out o) {
    if (o.slot >= DW_NODE_BASE && (uint32_t)(o.slot - DW_NODE_BASE) < nodes.len) return (uint32_t)(o.slot - DW_NODE_BASE);
    if (o.slot >= 0 && (uint32_t)o.slot < nodes.ntop && nodes.top[o.slot] >= 0) return (uint32_t)nodes.top[o.slot];
    dw__die("dataweaver: a nested column's call on a column that is not nested (dw_write with list<…>, struct<…>, map<…>)");
}

static struct dw__v2col *col_of(uint32_t k) {
    struct node *nd = &nodes.n[k];
    return nd->parent < 0 ? &nodes.tops[nd->slot] : &nd->own;
}

dw_out dw_child(dw_setup *s, dw_out parent, uint32_t i) {
    dw_out o = {-1};
    if (parent.slot < 0) return o; /* dw_write recorded why */
    bool top = parent.slot < DW_NODE_BASE;
    if ((top && ((uint32_t)parent.slot >= nodes.ntop || nodes.top[parent.slot] < 0)) ||
        (!top && (uint32_t)(parent.slot - DW_NODE_BASE) >= nodes.len)) {
        dw_errorf(s, "dw_child of an output column that is not a list, struct or map");
        return o;
    }
    struct node *p = &nodes.n[node_of(parent)];
    if (i >= p->nkids) {
        dw_errorf(s, "column \"%s\" has %u children, not %u", p->path, p->nkids, i + 1);
        return o;
    }
    o.slot = (int32_t)(DW_NODE_BASE + p->kid0 + i);
    return o;
}

dw_out dw_field_out(dw_setup *s, dw_out parent, const char *name) {
    dw_out o = dw_child(s, parent, 0);
    if (o.slot < 0) return o;
    struct node *p = &nodes.n[node_of(parent)];
    for (uint32_t i = 0; i < p->nkids; i++)
        if (strcmp(nodes.n[p->kid0 + i].name, name) == 0) return dw_child(s, parent, i);
    dw_errorf(s, "column \"%s\" has no field \"%s\"", p->path, name);
    o.slot = -1;
    return o;
}

struct dw__v2col *dw__nested_col(dw_out o, uint8_t *code, uint8_t *width) {
    uint32_t k = node_of(o);
    struct node *nd = &nodes.n[k], *p = &nodes.n[nd->parent];
    if (!p->open) die_about("a value outside its parent's begin/end", nd->path);
    if (p->code == DW_CODE_STRUCT && nd->own.rows != col_of((uint32_t)nd->parent)->rows)
        die_about("a second value for a struct's field in one row", nd->path);
    *code = nd->code;
    *width = nd->width;
    return &nd->own;
}

void dw_begin(dw_batch *b, dw_out o) {
    (void)b;
    uint32_t k = node_of(o);
    uint8_t code, width;
    /* dw__v2_col checks that the row may take a value here. */
    (void)dw__v2_col(o, &code, &width);
    if (nodes.n[k].open) die_about("a begin of a row already begun", nodes.n[k].path);
    nodes.n[k].open = true;
}

void dw_end(dw_batch *b, dw_out o) {
    (void)b;
    uint32_t k = node_of(o);
    struct node *nd = &nodes.n[k];
    struct dw__v2col *c = col_of(k);
    if (!nd->open) die_about("an end without a begin", nd->path);
    if (nd->code == DW_CODE_STRUCT) {
        for (uint32_t i = 0; i < nd->nkids; i++)
            if (nodes.n[nd->kid0 + i].own.rows != c->rows + 1)
                die_about("a struct row ended without a value for this field", nodes.n[nd->kid0 + i].path);
    } else {
        if (nd->code == DW_CODE_MAP && nodes.n[nd->kid0].own.rows != nodes.n[nd->kid0 + 1].own.rows)
            die_about("a map row ended with more keys than values or more values than keys", nd->path);
        dw__v2_grow((void **)&c->offs, &c->offs_cap, (uint64_t)c->rows + 2, 4);
        c->offs[c->rows + 1] = (int32_t)nodes.n[nd->kid0].own.rows;
    }
    c->rows++;
    nd->open = false;
}

/* null_row appends a null row to node k's column c: no items for a list
 * or map, a null row in each field of a struct. */
static void null_row(uint32_t k, struct dw__v2col *c) {
    struct node *nd = &nodes.n[k];
    dw__v2_null_bit(c);
    if (nd->code == DW_CODE_LIST || nd->code == DW_CODE_MAP) {
        dw__v2_grow((void **)&c->offs, &c->offs_cap, (uint64_t)c->rows + 2, 4);
        c->offs[c->rows + 1] = c->offs[c->rows];
        c->rows++;
    } else if (nd->code == DW_CODE_STRUCT) {
        for (uint32_t i = 0; i < nd->nkids; i++) null_row(nd->kid0 + i, &nodes.n[nd->kid0 + i].own);
        c->rows++;
    } else {
        dw__v2_put_empty(c, nd->code, nd->width);
    }
}

void dw__nested_null(dw_out o, struct dw__v2col *c) {
    uint32_t k = node_of(o);
    if (nodes.n[k].open) die_about("a null inside the begin/end of the same row", nodes.n[k].path);
    null_row(k, c);
}

static void put_list(dw_batch *b, dw_out o, const void *v, uint32_t n, uint8_t want, uint32_t w) {
    dw_begin(b, o);
    struct node *nd = &nodes.n[node_of(o)];
    struct node *it = &nodes.n[nd->kid0];
    if (nd->code != DW_CODE_LIST || !(it->code == want || (want == 5 && it->code == DW_CODE_TIMESTAMP) || (want == 4 && it->code == 16)))
        die_about("dw_put_list_* of the wrong type for the list's items", nd->path);
    struct dw__v2col *c = &it->own;
    dw__v2_grow((void **)&c->vals, &c->cap, (uint64_t)c->len + (uint64_t)n * w, 1);
    if (n) memcpy(c->vals + c->len, v, (size_t)n * w);
    c->len += n * w;
    c->rows += n;
    dw_end(b, o);
}

void dw_put_list_int64(dw_batch *b, dw_out o, const int64_t *v, uint32_t n) { put_list(b, o, v, n, 5, 8); }
void dw_put_list_int32(dw_batch *b, dw_out o, const int32_t *v, uint32_t n) { put_list(b, o, v, n, 4, 4); }
void dw_put_list_float64(dw_batch *b, dw_out o, const double *v, uint32_t n) { put_list(b, o, v, n, 11, 8); }

void dw__nested_begin(struct dw__v2col *tops) {
    nodes.tops = tops;
    for (uint32_t k = 0; k < nodes.len; k++) {
        struct node *nd = &nodes.n[k];
        nd->open = false;
        if (nd->parent < 0) continue;
        struct dw__v2col *c = &nd->own;
        c->len = c->rows = 0;
        c->has_null = false;
        dw__v2_grow((void **)&c->offs, &c->offs_cap, 1, 4);
        c->offs[0] = 0;
    }
}

/* fill describes node k's column c in descriptor words d[2..7] and its
 * children in its block, checking the rows each child holds. */
static const char *fill(uint32_t k, struct dw__v2col *c, uint32_t *d) {
    struct node *nd = &nodes.n[k];
    nodes.msg.len = 0;
    if (nd->open) {
        dwj_printf(&nodes.msg, "output column \"%s\": a row begun and not ended", nd->path);
        return nodes.msg.p;
    }
    if (c->has_null) dw__v2_valid_room(c, (uint64_t)(c->rows + 7) / 8 + 1);
    d[2] = 0;
    d[3] = c->has_null ? dw__addr(c->valid) : 0;
    d[7] = 0;
    if (!is_nested(nd->code)) {
        d[4] = nd->code == DW_CODE_UTF8 || nd->code == DW_CODE_BINARY ? dw__addr(c->offs) : 0;
        d[5] = c->len ? dw__addr(c->vals) : 0;
        d[6] = c->len;
        return NULL;
    }
    uint32_t want = c->rows;
    d[4] = 0;
    if (nd->code != DW_CODE_STRUCT) {
        d[4] = dw__addr(c->offs);
        want = (uint32_t)c->offs[c->rows];
    }
    d[5] = dw__addr(nd->kdesc);
    d[6] = nd->nkids;
    for (uint32_t i = 0; i < nd->nkids; i++) {
        struct node *kid = &nodes.n[nd->kid0 + i];
        if (kid->own.rows != want) {
            dwj_printf(&nodes.msg, "output column \"%s\": %u values put for the %u rows its parent holds", kid->path,
                       kid->own.rows, want);
            return nodes.msg.p;
        }
        if (nd->code == DW_CODE_MAP && i == 0 && kid->own.has_null) {
            dwj_printf(&nodes.msg, "output column \"%s\": a map key is null", kid->path);
            return nodes.msg.p;
        }
        uint32_t *kd = nd->kdesc + 8 * i;
        kd[0] = i;
        kd[1] = kid->code;
        const char *err = fill(nd->kid0 + i, &kid->own, kd);
        if (err != NULL) return err;
    }
    return NULL;
}

const char *dw__nested_desc(uint32_t slot, struct dw__v2col *c, uint32_t *d) {
    return fill(node_of((dw_out){(int32_t)slot}), c, d);
}
