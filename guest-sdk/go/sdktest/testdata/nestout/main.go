// Command nestout exercises the Go SDK's nested output builders
// (WriteNested, Node.Begin/End, PutList, PutNull at each level): the C
// SDK's guest-sdk/c/sdktest/testdata/nestout/nestout.c, which says what
// it writes, ported line for line; transforms/v2test/nestout_test.go
// checks the three SDKs' against arrow-go.
package main

import (
	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

func main() {}

func init() { guest.StageV2(setup) }

var words = [4]string{"", "a", "Île", "日本"}

func setup(st *guest.Setup) (guest.ProcessFunc, error) {
	var misuse string
	if err := st.ConfigKeys(guest.ConfString("misuse", &misuse)); err != nil {
		return nil, err
	}
	n := guest.Read[int64](st, "n")
	l := guest.WriteNested(st, "l", "list<int64>")
	lItem := l.Child(st, 0)
	s := guest.WriteNested(st, "s", "struct<a:int64,b:utf8,c:list<utf8>>")
	sa, sb, sc := s.Field(st, "a"), s.Field(st, "b"), s.Child(st, 2)
	scItem := sc.Child(st, 0)
	m := guest.WriteNested(st, "m", "map<utf8,float64>")
	mKey, mVal := m.Child(st, 0), m.Child(st, 1)
	ls := guest.WriteNested(st, "ls", "list<struct<x:int64,y:bool>>")
	lsItem := ls.Child(st, 0)
	lsX, lsY := lsItem.Field(st, "x"), lsItem.Field(st, "y")
	ll := guest.WriteNested(st, "ll", "list<list<int32>>")
	llItem := ll.Child(st, 0)
	llItemItem := llItem.Child(st, 0)
	if err := st.Err(); err != nil {
		return nil, err
	}
	var items [3]int64
	return func(b *guest.Batch) error {
		nv := n.View(b).Values
		for i, v := range nv {
			b.Emit(i)
			switch {
			case v%5 == 0:
				l.PutNull(b)
			case v%2 == 0:
				for k := range v % 4 {
					items[k] = v + k
				}
				guest.PutList(b, l, items[:v%4])
			default:
				l.Begin(b)
				for k := range v % 4 {
					if k == 1 {
						lItem.PutNull(b)
					} else {
						lItem.PutInt64(b, 10*v+k)
					}
				}
				if misuse != "unended" {
					l.End(b)
				}
			}
			if misuse == "outside" {
				lItem.PutInt64(b, 1)
			}

			if v%7 == 0 {
				s.PutNull(b)
			} else {
				s.Begin(b)
				sa.PutInt64(b, v)
				if misuse == "twice" {
					sa.PutInt64(b, v)
				}
				if v%3 == 0 {
					sb.PutNull(b)
				} else if misuse == "utf8" {
					sb.PutBytes(b, []byte{0xff})
				} else {
					sb.PutString(b, words[v%4])
				}
				if misuse != "missing" {
					sc.Begin(b)
					for k := range v % 3 {
						scItem.PutString(b, words[(v+k)%4])
					}
					sc.End(b)
				}
				s.End(b)
			}

			if v%6 == 5 {
				m.PutNull(b)
			} else {
				m.Begin(b)
				for k := range v % 3 {
					mKey.PutString(b, words[k+1])
					if k == 1 {
						mVal.PutNull(b)
					} else {
						mVal.PutFloat64(b, float64(v)+float64(k)/2)
					}
				}
				if misuse == "mapkeys" {
					mKey.PutString(b, words[0])
				}
				m.End(b)
			}

			ls.Begin(b)
			for k := range v % 3 {
				if (v+k)%4 == 3 {
					lsItem.PutNull(b)
					continue
				}
				lsItem.Begin(b)
				lsX.PutInt64(b, 100*v+k)
				lsY.PutBool(b, k%2 == 0)
				lsItem.End(b)
			}
			ls.End(b)

			ll.Begin(b)
			for k := range v % 3 {
				llItem.Begin(b)
				for j := range k {
					llItemItem.PutInt32(b, int32(v+j))
				}
				llItem.End(b)
			}
			ll.End(b)
		}
		return nil
	}, nil
}
