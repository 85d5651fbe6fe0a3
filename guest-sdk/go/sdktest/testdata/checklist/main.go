// Command checklist exercises the Go SDK's list reading (ABI v2 nested
// types). It reads "nums" (list<int32>), "flags" (list<bool>) and
// "words" (list<utf8>) and writes one utf8 column "txt", dropping the
// inputs. For input row i it emits one row from row i whose txt is the
// three lists written as nums;flags;words, each "null" or its items in
// brackets, comma-separated, a null item "null"; then, per batch, one row
// of no origin: "elems:" the three item types, " items:" their counts.
package main

import (
	"strconv"
	"strings"

	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

func main() {}

func init() { guest.StageV2(setup) }

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	nums := guest.ReadList(s, "nums")
	flags := guest.ReadList(s, "flags")
	words := guest.ReadList(s, "words")
	txt := guest.WriteString(s, "txt")
	s.DropAll()
	return func(b *guest.Batch) error {
		nv, fv, wv := nums.View(b), flags.View(b), words.View(b)
		ni, fi, wi := guest.ItemsOf[int32](nv), fv.Bools(), wv.Strings()
		var sb strings.Builder
		list := func(v guest.ListView, i int, item func(k int) string) {
			if !v.Valid(i) {
				sb.WriteString("null")
				return
			}
			lo, hi := v.Range(i)
			sb.WriteByte('[')
			for k := lo; k < hi; k++ {
				if k > lo {
					sb.WriteByte(',')
				}
				sb.WriteString(item(k))
			}
			sb.WriteByte(']')
		}
		for i := range b.Len() {
			sb.Reset()
			list(nv, i, func(k int) string {
				if !ni.Valid(k) {
					return "null"
				}
				return strconv.Itoa(int(ni.Values[k]))
			})
			sb.WriteByte(';')
			list(fv, i, func(k int) string {
				if !fi.Valid(k) {
					return "null"
				}
				return strconv.FormatBool(fi.Value(k))
			})
			sb.WriteByte(';')
			list(wv, i, func(k int) string {
				if !wi.Valid(k) {
					return "null"
				}
				return strconv.Quote(wi.Value(k))
			})
			b.Emit(i)
			txt.Put(b, sb.String())
		}
		b.Emit(guest.NoOrigin)
		txt.Put(b, "elems:"+nums.Elem()+","+flags.Elem()+","+words.Elem()+
			" items:"+strconv.Itoa(nv.Items())+","+strconv.Itoa(fv.Items())+","+strconv.Itoa(wv.Items()))
		return nil
	}, nil
}
