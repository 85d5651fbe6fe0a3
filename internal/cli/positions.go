package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/position"
)

func (w *weave) positionsCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "positions",
		Usage:     "show or reset where a pipeline will resume",
		ArgsUsage: "FILE",
		Description: "Prints the positions weave run saved for the pipeline FILE: per source step, where the " +
			"next run continues, how many rows were acknowledged and when. --reset forgets them, so the " +
			"next run starts from the start (as weave run --from-start would, once).\n\n" +
			"Kafka and JetStream sources resume from their broker's group offsets / durable consumer; " +
			"what is shown for them is what the broker had acknowledged at the last checkpoint. A Postgres " +
			"sink with exactly_once keeps positions in its database; they are not in the state directory. A file " +
			"with a coordinator section keeps one position per split in the coordinator's key-value bucket, shared " +
			"by its workers; after --reset the next run reads every split again.",
		Flags: []ucli.Flag{setFlag, stateFlag,
			&ucli.BoolFlag{Name: "reset", Usage: "forget the saved positions"},
		},
		Action: w.positions,
	}
}

func (w *weave) positions(c *ucli.Context) error {
	if c.NArg() != 1 {
		return usagef("positions needs one pipeline FILE")
	}
	opts := w.configOptions(w.logger)
	opts.Set, opts.State = c.StringSlice("set"), c.String("state")
	f, err := config.ParseFile(c.Args().First(), opts)
	if err != nil {
		return err
	}
	store, where, err := w.positionStore(c, f, opts)
	if err != nil {
		return err
	}
	defer store.Close()
	entries, err := store.List(c.Context, f.Name)
	if err != nil {
		return err
	}
	out := w.opts.Stdout
	if len(entries) == 0 {
		fmt.Fprintf(out, "pipeline %q has no saved positions in %s: the next run starts from the start\n", f.Name, where)
		return nil
	}
	if c.Bool("reset") {
		for _, e := range entries {
			if err := store.Delete(c.Context, e.Key); err != nil {
				return err
			}
			step := e.Key.Step
			if e.Key.Split != "" {
				step += " [" + e.Key.Split + "]"
			}
			fmt.Fprintf(out, "reset %s (was: %s)\n", step, e.Record.Describe())
		}
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "step\tposition\trows\tsaved\tstate")
	for _, e := range entries {
		r := e.Record
		state := "stopped early"
		if r.Finished {
			state = "read to the end"
		}
		step := e.Key.Step
		if e.Key.Split != "" {
			step += " [" + e.Key.Split + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", step, r.Describe(), r.Rows, r.Saved.Local().Format(time.DateTime), state)
	}
	tw.Flush()
	fmt.Fprintf(out, "state: %s\n", where)
	return nil
}

// positionStore is where weave run keeps the pipeline's positions: the
// store of a sink that keeps them with its rows (Postgres exactly_once),
// else the state directory. Building the steps does no I/O; only the
// keeper's store connects.
func (w *weave) positionStore(c *ucli.Context, f *config.File, opts config.Options) (position.Store, string, error) {
	if f.Coordinator != nil {
		// Workers of a coordinated file share their positions: one per
		// split, in the coordinator's bucket.
		return coordinator.OpenFileStore(c.Context, f, w.logger)
	}
	bopts := opts
	bopts.NoPositions = true
	bopts.Logger = w.logger
	bopts.Mem = w.opts.Mem
	p, err := config.Build(f, bopts)
	if err != nil {
		return nil, "", err
	}
	defer p.Close()
	for _, s := range p.Sinks {
		if k, ok := s.Sink.(engine.PositionKeeper); ok {
			st, err := k.Positions(c.Context)
			if err != nil {
				return nil, "", fmt.Errorf("sink %s: positions: %w", s.Name, err)
			}
			return st, "sink " + s.Name, nil
		}
	}
	dir := opts.StateDir(f)
	ds := position.OpenDir(dir)
	return ds, ds.File(f.Name), nil
}
