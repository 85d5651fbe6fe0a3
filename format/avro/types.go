package avro

const Types = "TBD"
