//! nestout exercises the Rust SDK's nested output builders
//! (`Setup::write_nested`, `Node::begin`/`end`, `put_list`, `put_null` at
//! each level): the C SDK's guest-sdk/c/sdktest/testdata/nestout/nestout.c,
//! which says what it writes, ported line for line;
//! transforms/v2test/nestout_test.go checks the three SDKs' against
//! arrow-go.

use dataweaver_guest::{stage_v2, Batch, Col, Node, Setup, StageV2};

stage_v2!(setup);

const WORDS: [&str; 4] = ["", "a", "Île", "日本"];

struct Nestout {
    misuse: String,
    n: Col<i64>,
    l: Node,
    l_item: Node,
    s: Node,
    s_a: Node,
    s_b: Node,
    s_c: Node,
    s_c_item: Node,
    m: Node,
    m_key: Node,
    m_val: Node,
    ls: Node,
    ls_item: Node,
    ls_x: Node,
    ls_y: Node,
    ll: Node,
    ll_item: Node,
    ll_item_item: Node,
}

impl StageV2 for Nestout {
    fn process(&mut self, b: &Batch) -> Result<(), String> {
        let misuse = self.misuse.as_str();
        let nv = self.n.view(b);
        for (i, &v) in nv.values.iter().enumerate() {
            b.emit(Some(i));
            if v % 5 == 0 {
                self.l.put_null(b);
            } else if v % 2 == 0 {
                let mut items = [0i64; 3];
                for k in 0..v % 4 {
                    items[k as usize] = v + k;
                }
                self.l.put_list(b, &items[..(v % 4) as usize]);
            } else {
                self.l.begin(b);
                for k in 0..v % 4 {
                    if k == 1 {
                        self.l_item.put_null(b);
                    } else {
                        self.l_item.put(b, 10 * v + k);
                    }
                }
                if misuse != "unended" {
                    self.l.end(b);
                }
            }
            if misuse == "outside" {
                self.l_item.put(b, 1i64);
            }

            if v % 7 == 0 {
                self.s.put_null(b);
            } else {
                self.s.begin(b);
                self.s_a.put(b, v);
                if misuse == "twice" {
                    self.s_a.put(b, v);
                }
                if v % 3 == 0 {
                    self.s_b.put_null(b);
                } else if misuse == "utf8" {
                    self.s_b.put_bytes(b, b"\xff");
                } else {
                    self.s_b.put_str(b, WORDS[(v % 4) as usize]);
                }
                if misuse != "missing" {
                    self.s_c.begin(b);
                    for k in 0..v % 3 {
                        self.s_c_item.put_str(b, WORDS[((v + k) % 4) as usize]);
                    }
                    self.s_c.end(b);
                }
                self.s.end(b);
            }

            if v % 6 == 5 {
                self.m.put_null(b);
            } else {
                self.m.begin(b);
                for k in 0..v % 3 {
                    self.m_key.put_str(b, WORDS[(k + 1) as usize]);
                    if k == 1 {
                        self.m_val.put_null(b);
                    } else {
                        self.m_val.put(b, v as f64 + k as f64 / 2.0);
                    }
                }
                if misuse == "mapkeys" {
                    self.m_key.put_str(b, WORDS[0]);
                }
                self.m.end(b);
            }

            self.ls.begin(b);
            for k in 0..v % 3 {
                if (v + k) % 4 == 3 {
                    self.ls_item.put_null(b);
                    continue;
                }
                self.ls_item.begin(b);
                self.ls_x.put(b, 100 * v + k);
                self.ls_y.put_bool(b, k % 2 == 0);
                self.ls_item.end(b);
            }
            self.ls.end(b);

            self.ll.begin(b);
            for k in 0..v % 3 {
                self.ll_item.begin(b);
                for j in 0..k {
                    self.ll_item_item.put(b, (v + j) as i32);
                }
                self.ll_item.end(b);
            }
            self.ll.end(b);
        }
        Ok(())
    }
}

fn setup(st: &mut Setup) -> Result<Nestout, String> {
    let misuse = st.config(&["misuse"])?.str("misuse")?.unwrap_or("").to_string();
    let n = st.read::<i64>("n");
    let l = st.write_nested("l", "list<int64>");
    let s = st.write_nested("s", "struct<a:int64,b:utf8,c:list<utf8>>");
    let m = st.write_nested("m", "map<utf8,float64>");
    let ls = st.write_nested("ls", "list<struct<x:int64,y:bool>>");
    let ll = st.write_nested("ll", "list<list<int32>>");
    let (s_c, ls_item, ll_item) = (s.child(st, 2), ls.child(st, 0), ll.child(st, 0));
    Ok(Nestout {
        misuse,
        n,
        l,
        l_item: l.child(st, 0),
        s,
        s_a: s.field(st, "a"),
        s_b: s.field(st, "b"),
        s_c,
        s_c_item: s_c.child(st, 0),
        m,
        m_key: m.child(st, 0),
        m_val: m.child(st, 1),
        ls,
        ls_item,
        ls_x: ls_item.field(st, "x"),
        ls_y: ls_item.field(st, "y"),
        ll,
        ll_item,
        ll_item_item: ll_item.child(st, 0),
    })
}
