package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
)

// DefaultSplitRows is the default split_rows: a million rows is seconds
// of reading, long beside a split's fixed costs (a message, a position,
// a part), short enough that a table of tens of millions spreads over
// tens of workers.
const DefaultSplitRows = 1_000_000

// Above sampleAbove rows, a table's quantiles come from a sample of
// about sampleRows rows (variables for tests).
var sampleAbove, sampleRows int64 = 5_000_000, 1_000_000

// cursorRange is the Data of a split of a table source: the rows whose
// cursor lies in (Lo, Hi], in PostgreSQL's text form of the cursor type;
// no Lo means from the source's start (or the first row).
type cursorRange struct {
	Column string  `json:"column"`
	Type   string  `json:"type"`
	Lo     *string `json:"lo,omitempty"`
	Hi     string  `json:"hi"`
}

var _ split.Continuer = (*Source)(nil)

// Splits lists the splits of every row there is now (split.Source).
func (s *Source) Splits(ctx context.Context) ([]split.Split, error) {
	return s.SplitsAfter(ctx, nil)
}

// SplitsAfter lists the splits of the rows that the finished splits of
// earlier plans do not cover (split.Continuer): the gaps between them
// (splits whose messages were lost), then the rows past the highest
// cursor they read, up to the highest there is now. Each stretch is cut
// at quantiles of its cursor values into about split_rows rows a split.
// Rows inserted later, with higher cursor values, go to the next run's
// plan, so a coordinated job ingests a growing table incrementally.
func (s *Source) SplitsAfter(ctx context.Context, finished []split.Split) ([]split.Split, error) {
	conn, err := connect(ctx, s.dsn, s.name)
	if err != nil {
		return nil, err
	}
	defer closeConn(conn)
	if err := s.describe(ctx, conn); err != nil {
		return nil, err
	}
	var done []cursorRange
	for _, f := range finished {
		var r cursorRange
		if json.Unmarshal(f.Data, &r) != nil || r.Column != s.cursor || r.Type != s.typeName {
			continue // another cursor's splits: the position check of a run alone refuses those
		}
		done = append(done, r)
	}
	if err := s.sortRanges(ctx, conn, done); err != nil {
		return nil, err
	}
	var out []split.Split
	at := s.start // covered up to here (nil: nothing yet)
	for _, r := range done {
		if r.Lo != nil {
			gap := at == nil
			if !gap {
				if gap, err = s.less(ctx, conn, *at, *r.Lo); err != nil {
					return nil, err
				}
			}
			if gap {
				ranges, err := s.cut(ctx, conn, at, r.Lo)
				if err != nil {
					return nil, err
				}
				out = append(out, ranges...)
			}
		}
		further := at == nil
		if !further {
			if further, err = s.less(ctx, conn, *at, r.Hi); err != nil {
				return nil, err
			}
		}
		if further {
			hi := r.Hi
			at = &hi
		}
	}
	rest, err := s.cut(ctx, conn, at, nil)
	if err != nil {
		return nil, err
	}
	return append(out, rest...), nil
}

// describe learns the cursor column's type, as Open does.
func (s *Source) describe(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, "SELECT dw."+quote(s.cursor)+" FROM "+s.from+" AS dw LIMIT 0")
	if err != nil {
		return fmt.Errorf("postgres: %s: cursor %q: %w", s.from, s.cursor, err)
	}
	oid := rows.FieldDescriptions()[0].DataTypeOID
	rows.Close()
	if err := conn.QueryRow(ctx, "SELECT format_type($1, NULL)", oid).Scan(&s.typeName); err != nil {
		return fmt.Errorf("postgres: type of cursor %q: %w", s.cursor, err)
	}
	return nil
}

// sortRanges orders finished ranges by their upper bounds, compared as
// values of the cursor type.
func (s *Source) sortRanges(ctx context.Context, conn *pgx.Conn, rs []cursorRange) error {
	if len(rs) < 2 {
		return nil
	}
	his := make([]string, len(rs))
	for i, r := range rs {
		his[i] = r.Hi
	}
	var order []int32
	err := conn.QueryRow(ctx, "SELECT array_agg(i::int4 ORDER BY h::"+s.typeName+") FROM unnest($1::text[]) WITH ORDINALITY AS u(h, i)",
		his).Scan(&order)
	if err != nil {
		return fmt.Errorf("postgres: %s: order the finished splits: %w", s.from, err)
	}
	sorted := make([]cursorRange, len(rs))
	for k, i := range order {
		sorted[k] = rs[i-1]
	}
	copy(rs, sorted)
	return nil
}

// less compares two cursor values as values of the cursor type.
func (s *Source) less(ctx context.Context, conn *pgx.Conn, a, b string) (bool, error) {
	var lt bool
	if err := conn.QueryRow(ctx, "SELECT $1::"+s.typeName+" < $2::"+s.typeName, a, b).Scan(&lt); err != nil {
		return false, fmt.Errorf("postgres: %s: compare cursor values: %w", s.from, err)
	}
	return lt, nil
}

// cut splits the rows with cursor in (lo, hi] (nil lo: from the first,
// nil hi: to the last there is now) into ranges of about split_rows rows,
// at quantiles of their cursor values. The last range ends at hi, or at
// the highest value there is now.
func (s *Source) cut(ctx context.Context, conn *pgx.Conn, lo, hi *string) ([]split.Split, error) {
	cur := "dw." + quote(s.cursor)
	where, args := " WHERE true", []any{}
	if lo != nil {
		args = append(args, *lo)
		where += fmt.Sprintf(" AND %s > $%d::%s", cur, len(args), s.typeName)
	}
	if hi != nil {
		args = append(args, *hi)
		where += fmt.Sprintf(" AND %s <= $%d::%s", cur, len(args), s.typeName)
	}
	var n int64
	var top *string
	err := conn.QueryRow(ctx, "SELECT count(*), max("+cur+")::text FROM "+s.from+" AS dw"+where, args...).Scan(&n, &top)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: plan splits: %w", s.from, err)
	}
	if n == 0 || top == nil {
		return nil, nil
	}
	end := *top
	if hi != nil {
		end = *hi
	}
	k := (n + int64(s.splitRows) - 1) / int64(s.splitRows)
	var bounds []*string
	if k > 1 {
		fr := make([]float64, k-1)
		for i := range fr {
			fr[i] = float64(i+1) / float64(k)
		}
		// percentile_disc picks values that exist, so each bound is a
		// row's cursor; unique cursors make them distinct but for tiny
		// ranges, where duplicates are dropped. A large table's quantiles
		// come from a sample of its pages (REPEATABLE: the same pages
		// while the table is unchanged), which spares sorting every
		// cursor; the ranges then hold about split_rows rows each.
		from := s.from + " AS dw"
		if s.table && n > sampleAbove {
			from += fmt.Sprintf(" TABLESAMPLE SYSTEM (%g) REPEATABLE (14)", min(100, 100*float64(sampleRows)/float64(n)))
		}
		err := conn.QueryRow(ctx, "SELECT (percentile_disc($"+fmt.Sprint(len(args)+1)+"::float8[]) WITHIN GROUP (ORDER BY "+cur+"))::text[] FROM "+
			from+where, append(args, fr)...).Scan(&bounds)
		if err != nil {
			return nil, fmt.Errorf("postgres: %s: quantiles of %s: %w", s.from, s.cursor, err)
		}
	}
	var out []split.Split
	from := lo
	for _, bp := range append(bounds, &end) {
		if bp == nil {
			continue // a sample that held no row of the range
		}
		b := *bp
		if from != nil && *from == b {
			continue
		}
		r := cursorRange{Column: s.cursor, Type: s.typeName, Lo: from, Hi: b}
		data, _ := json.Marshal(r) // plain fields: cannot fail
		start := "start"
		if from != nil {
			start = *from
		}
		out = append(out, split.Split{ID: fmt.Sprintf("%s (%s, %s]", s.cursor, start, b),
			Text: fmt.Sprintf("%s rows with %s in (%s, %s]", s.from, s.cursor, start, b), Data: data, Rows: n / k})
		hiCopy := b
		from = &hiCopy
	}
	return out, nil
}

// ReadSplit makes the next Open read one split only (split.Source): the
// rows with cursor in (Lo, Hi], read as a run alone reads them, and then
// the end.
func (s *Source) ReadSplit(sp split.Split) error {
	var r cursorRange
	if err := json.Unmarshal(sp.Data, &r); err != nil {
		return fmt.Errorf("postgres: split %s: %w", sp.ID, err)
	}
	if r.Column != s.cursor {
		return fmt.Errorf("postgres: split %s was planned by cursor %q, the source's is %q", sp.ID, r.Column, s.cursor)
	}
	s.split = &r
	s.stop = true
	return nil
}
