// Command weave runs DataWeaver pipeline files.
//
//	weave run orders.yaml --set batch.rows=1000
//	weave validate orders.yaml
//	weave validate --sample 20 orders.yaml
//	weave run --limit 1000 orders.yaml
//	weave connectors describe file
//
// # Layout
//
// The commands live in internal/cli, where tests run them in-process; this
// package only connects them to the process (arguments, terminal, exit
// code) and links the standard connectors through connectors/all.
package main
