package csv_test

import (
	"fmt"
	"strings"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/csv"
)

func ExampleNewReader() {
	in := "id,name,amount,paid_at\n" +
		"1,Ada,12.50,2024-03-01T10:00:00Z\n" +
		"2,\"Lovelace, A.\",,2024-03-02T11:30:00Z\n" +
		"3,Bob\n"
	r, err := csv.NewReader(format.Input{R: strings.NewReader(in), Name: "payments.csv"}, format.ReadOptions{})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	for _, f := range r.Schema().Fields() {
		fmt.Printf("%s: %s\n", f.Name, f.Type)
	}
	rec, rejects, err := r.Next()
	if err != nil {
		panic(err)
	}
	defer rec.Release()
	for i := 0; i < int(rec.NumRows()); i++ {
		fmt.Println(rec.Column(0).ValueStr(i), rec.Column(1).ValueStr(i), rec.Column(2).ValueStr(i))
	}
	for _, e := range rejects {
		fmt.Println("rejected:", e.Error())
	}
	// Output:
	// id: int64
	// name: utf8
	// amount: float64
	// paid_at: timestamp[us, tz=UTC]
	// 1 Ada 12.5
	// 2 Lovelace, A. (null)
	// rejected: payments.csv:4: malformed input: 2 fields, want 4
}
