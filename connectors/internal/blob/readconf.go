package blob

import (
	"errors"

	"github.com/dataweaver/dataweaver/codec"
	"github.com/dataweaver/dataweaver/connectors/arrowtype"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/format"
)

// ReadFields are the fields every reading source of this package's kind
// declares after its location fields: format, compression, schema, csv and
// the decoding limits. formatDesc describes the format field, whose
// default differs (stdin has no extension).
func ReadFields(formatDesc string) []*spec.Field {
	return []*spec.Field{
		spec.String("format").Optional().Desc(formatDesc),
		spec.String("compression").Default(CompAuto).OneOf(CompAuto, CompNone, CompGzip, CompZstd).
			Desc("Outer compression of text formats. auto: by .gz/.zst suffix, else by the data's magic bytes. " +
				"Parquet, Arrow and Avro compress inside the file and take none (or auto)."),
		arrowtype.Field("schema").Optional().
			Desc("Decode into these columns instead of inferring them (CSV, JSON Lines). " +
				"Ordered mapping of column name to Arrow type: int8..int64, uint8..uint64, float32, float64, " +
				"bool, utf8 (string), date32, timestamp[unit] or timestamp[unit, TZ], decimal128(p,s), list<type>, " +
				"… ; append \"not null\" for non-nullable columns. With a CSV header, columns are matched by name. " +
				"In a {…} flow mapping, quote types containing a comma: \"decimal128(10,2)\"."),
		spec.Object("csv",
			DelimiterField(),
			HeaderField(true),
			spec.Bool("quoted_newlines").Default(true).
				Desc("Whether a quoted value may hold a line break. Declare false to let a coordinated run "+
					"(coordinator section) cut a large uncompressed CSV file into byte ranges at newlines, as it "+
					"cuts JSON Lines; with the default, each CSV file is one split, since a range starting inside "+
					"a quoted value would misread it."),
			spec.StringList("null_values").Default([]string{""}).
				Desc("Cell texts read as null.").
				Example(`["", "NA", "NULL"]`),
		).Desc("CSV options."),
		spec.Int("infer_rows").Default(1000).
			Desc("Rows sampled to infer column types when schema is not given (CSV, JSON Lines).").
			Validate(positive),
		spec.Int("workers").Default(0).Advance().
			Desc("Goroutines decoding in parallel (CSV, JSON Lines); 0 means one per CPU."),
		spec.ByteSize("split_size").Default(int64(DefaultSplitBytes)).Advance().
			Validate(func(v any) error {
				if v.(int64) < 1<<10 {
					return errors.New("must be at least 1KiB")
				}
				return nil
			}).
			Desc("With a coordinator section, an uncompressed JSON Lines file (or CSV file with csv.quoted_newlines: " +
				"false) larger than this is cut into byte ranges of this size, one split each, so a few large files " +
				"still spread over many workers; each range reads the lines that start in it. Changing it between " +
				"runs of the same job renames the splits, so a file read whole before is read again."),
		codec.MaxRecordBytesField().
			Desc("Longest record of a text format (a line; in CSV a record whose quoted fields span lines), " +
				"without its line end. A longer one is skipped to its end without being held in memory and " +
				"rejected with its file and line, like a row that cannot be decoded. Finding that a record is over " +
				"the limit costs about three times the limit in memory."),
	}
}

func positive(v any) error {
	if v.(int) < 1 {
		return errors.New("must be at least 1")
	}
	return nil
}

// ParseRead decodes the ReadFields of conf into a SourceConfig (Format,
// Compression, Opts, Log); path picks the format by its extension when
// the format field is empty. The caller sets Kind, Path and Store.
func ParseRead(conf *spec.Parsed, b engine.Build, path string) (SourceConfig, error) {
	c := SourceConfig{Compression: conf.String("compression"), Log: b.Logger}
	var err error
	if c.Format, err = LookupFormat(conf, path); err != nil {
		return c, err
	}
	if !c.Format.Text {
		outer := c.Compression
		if outer == CompAuto {
			outer = BySuffix(path)
		}
		if outer == CompGzip || outer == CompZstd {
			return c, ConfigErr(conf, "compression", "%s files cannot be read through %s: the format compresses internally; decompress the file first", c.Format.Name, outer)
		}
	}
	c.Opts = format.ReadOptions{
		Mem:       b.Mem,
		BatchRows: b.BatchRows,
		InferRows: conf.Int("infer_rows"),
		Workers:   conf.Int("workers"),

		MaxRecordBytes: conf.Int("max_record_bytes"),
	}
	if conf.Given("schema") {
		if c.Opts.Schema, err = arrowtype.Schema(conf.Map("schema")); err != nil {
			return c, ConfigErr(conf, "schema", "%v", err)
		}
	}
	if conf.Given("csv") && c.Format.Name != "csv" {
		return c, ConfigErr(conf, "csv", "csv options given but the format is %s", c.Format.Name)
	}
	if csv := conf.Object("csv"); csv != nil && c.Format.Name == "csv" {
		if c.Opts.Delimiter, err = ParseDelimiter(csv.String("delimiter")); err != nil {
			return c, ConfigErr(conf, "csv", "%v", err)
		}
		c.Opts.NoHeader = !csv.Bool("header")
		c.Opts.NullValues = csv.Strings("null_values")
		c.LineSplits = !csv.Bool("quoted_newlines")
	}
	c.SplitBytes = conf.ByteSize("split_size")
	if c.Format.Name == "jsonl" {
		c.LineSplits = true // a JSON string escapes its line breaks
	}
	return c, nil
}
