// Package schemareg is the Confluent schema registry glue the message
// connectors (Kafka, NATS) share: the `schema_registry` spec object, a
// decoder and an encoder wrapping the codec package's for Avro, Protobuf
// and JSON Schema in the Confluent wire format (magic byte 0, the schema id
// as 4 big-endian bytes, for Protobuf the message-index list, then the
// payload), and the subject naming strategies.
//
// # Reading
//
// Every message names the schema it was written with. The decoder looks
// each id up once (the first message naming it; never per row) and keeps
// what it learnt: for Avro, a decoder of that writer schema and the
// mapping of its columns onto the pipeline's (by name: a column the writer
// lacks is null when the pipeline's column is nullable, a writer column
// the pipeline lacks is dropped, a narrower type is converted where Avro
// promotes it, any other type that differs is incompatible); for
// Protobuf, whether the id's message is the pipeline's and agrees with it
// on the type of every field number both have; for JSON Schema, whether
// the schema's properties agree with the pipeline's columns. Consecutive
// messages with one id are decoded as one batch by the codec. A message
// whose id the registry does not know, or whose schema cannot map onto
// the pipeline's columns, is a row error naming the id (the connector adds
// where the message came from). A registry that cannot be reached fails
// the batch instead: it is not the message's fault.
//
// # Writing
//
// The encoder registers (or, with auto_register: false, looks up) the
// schema derived from the columns when the sink opens, under the subject
// the strategy names, and prefixes every message with its id.
package schemareg
