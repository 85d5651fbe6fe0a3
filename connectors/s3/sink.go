package s3

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/format"
)

// defaultPartSize is the multipart upload's part size: what a sink holds
// in memory per object being written.
const defaultPartSize = 8 << 20

var sinkSpec = spec.New("s3").
	Summary("Writes part objects (CSV, JSON Lines, Parquet, Arrow IPC or Avro) under a prefix of an S3 or S3-compatible bucket.").
	Description("The sink writes part-000001.<format>, part-000002.<format>, … under path, as the file sink "+
		"writes a directory. Each part is a multipart upload: parts of part_size bytes are sent as the "+
		"format fills them, and the object becomes visible only when the upload is completed, at a "+
		"checkpoint, once the source position it covers is saved (or at the end of the run when positions "+
		"are off). Batches are acknowledged to the source only after that, so a message-bus source loses "+
		"nothing and a resumed run adds new parts: the prefix holds every row once. A failed or "+
		"cancelled run aborts its uploads, leaving no object and no stored parts. A part is started only "+
		"when a row arrives; a reader lists prefix/part-*.<format>.\n\n"+
		"At start the sink aborts the unfinished uploads it finds under path (a killed run's leftovers, "+
		"whose rows the source reads again) and numbers its parts after the highest one there, so give "+
		"each sink a prefix of its own. Set a lifecycle rule that aborts incomplete multipart uploads "+
		"after a few days on AWS buckets, as AWS recommends, for uploads no later run cleans up.").
	Field(
		bucketField(),
		spec.String("path").Default("").
			Desc("Prefix the parts are written under, ending in /; empty for the bucket's top level.").
			Example("exports/orders/"),
		spec.String("format").
			Desc("csv, jsonl, parquet, arrow or avro."),
		spec.String("compression").Default(blob.CompAuto).
			Desc("Text formats (csv, jsonl): none, gzip or zstd, applied to each part (named .csv.gz, .jsonl.zst). "+
				"Binary formats compress inside the file: parquet snappy (default), zstd, gzip or none; avro null "+
				"(default), deflate or zstd; arrow none (default), zstd or lz4.").
			Example("zstd"),
		spec.Object("csv",
			blob.DelimiterField(),
			blob.HeaderField(false),
		).Desc("CSV options."),
		spec.Int("part_rows").Default(0).Advance().
			Desc("Start a new part once the current one holds at least this many rows (it is completed at the "+
				"next checkpoint). 0: one part per checkpoint.").
			Example("1000000").
			Validate(func(v any) error {
				if v.(int) < 0 {
					return errors.New("must be 0 or more")
				}
				return nil
			}),
		spec.ByteSize("part_size").Default(int64(defaultPartSize)).Advance().
			Desc("Size of the multipart upload's parts, held in memory while they fill: at least 5MiB (S3's "+
				"minimum); an object can have 10,000 parts, so 8MiB parts make objects of up to 78GiB.").
			Validate(func(v any) error {
				if v.(int64) < minPartSize {
					return errors.New("must be at least 5MiB, S3's smallest part")
				}
				return nil
			}),
	).
	Field(connectionFields()...).
	WithExample("Parquet parts on AWS S3", `sinks:
  - s3:
      bucket: analytics
      region: eu-west-1
      path: exports/orders/
      format: parquet`).
	WithExample("Gzipped JSON Lines parts on MinIO with explicit keys", `sinks:
  - s3:
      bucket: exports
      endpoint: http://127.0.0.1:9000
      force_path_style: true
      access_key_id: minioadmin
      secret_access_key: ${MINIO_SECRET}
      path: events/
      format: jsonl
      compression: gzip`)

// sinkConfig is the decoded sink configuration.
type sinkConfig struct {
	conn     *connection
	prefix   string
	format   *format.Format
	outer    string
	ext      string
	wopts    format.WriteOptions
	partRows int64
	partSize int
}

func newSink(conf *spec.Parsed, b engine.Build) (engine.Sink, error) {
	conn, err := parseConnection(conf)
	if err != nil {
		return nil, err
	}
	c := sinkConfig{conn: conn, prefix: conf.String("path"), partRows: int64(conf.Int("part_rows")), partSize: int(conf.ByteSize("part_size"))}
	switch {
	case c.prefix != "" && !strings.HasSuffix(c.prefix, "/"):
		return nil, blob.ConfigErr(conf, "path", "path %q is a prefix for part objects and must end in / (%s/)", c.prefix, c.prefix)
	case strings.HasPrefix(c.prefix, "/"):
		return nil, blob.ConfigErr(conf, "path", "path %q starts with /: keys are relative to the bucket", c.prefix)
	case blob.HasMeta(c.prefix):
		return nil, blob.ConfigErr(conf, "path", "path %q holds a glob character; the sink writes under a plain prefix", c.prefix)
	}
	if c.format, err = blob.LookupFormat(conf, c.prefix); err != nil {
		return nil, err
	}
	c.wopts = format.WriteOptions{Mem: b.Mem, Name: conn.url(c.prefix)}
	if c.wopts.Mem == nil {
		c.wopts.Mem = memory.NewGoAllocator()
	}
	if c.outer, err = blob.WriteCompression(conf, c.format, "", &c.wopts); err != nil {
		return nil, err
	}
	if conf.Given("csv") && c.format.Name != "csv" {
		return nil, blob.ConfigErr(conf, "csv", "csv options given but the format is %s", c.format.Name)
	}
	if csv := conf.Object("csv"); csv != nil && c.format.Name == "csv" {
		if c.wopts.Delimiter, err = blob.ParseDelimiter(csv.String("delimiter")); err != nil {
			return nil, blob.ConfigErr(conf, "csv", "%v", err)
		}
		c.wopts.NoHeader = !csv.Bool("header")
	}
	c.ext = blob.PartExt(c.format, c.outer)
	return &PartSink{sinkConfig: c}, nil
}

// CheckSchema reports whether the format can write schema, for weave
// validate.
func (c *sinkConfig) CheckSchema(schema *arrow.Schema) error {
	if err := blob.Probe(c.format, c.wopts, schema); err != nil {
		return fmt.Errorf("%w: s3 sink %s: %s cannot write this schema: %w", engine.ErrSchema, c.conn.url(c.prefix), c.format.Name, err)
	}
	return nil
}
