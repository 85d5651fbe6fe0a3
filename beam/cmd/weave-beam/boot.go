package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/apache/beam/sdks/v2/go/container/tools"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/util/grpcx"
)

// provisionEndpoint is given by a runner that starts this binary as a
// worker of a PROCESS environment (with --id); the harness's own flags
// (--id, --worker, --control_endpoint, …) are registered by Beam.
var provisionEndpoint = flag.String("provision_endpoint", "", "worker boot: the runner's provision endpoint (set by the runner)")

// boot does what Beam's Go container boot does, without fetching the
// worker binary (this binary is the worker): it asks the provision
// service for the endpoints and the pipeline options, then replaces
// itself with the worker harness (--worker=true).
func boot() int {
	id := flag.Lookup("id").Value.String()
	// Prism v2.78.0 passes --id='…' with the quotes in the value, and a
	// worker that reports the quoted id is never matched: the job hangs in
	// RUNNING. Take the quotes off.
	id = strings.Trim(id, "'")
	if id == "" {
		fmt.Fprintln(os.Stderr, "weave-beam: worker boot: no --id")
		return 2
	}
	ctx := grpcx.WriteWorkerID(context.Background(), id)
	info, err := tools.ProvisionInfo(ctx, *provisionEndpoint)
	if err != nil {
		fmt.Fprintln(os.Stderr, "weave-beam: worker boot: provision info:", err)
		return 1
	}
	opts, err := tools.ProtoToJSON(info.GetPipelineOptions())
	if err != nil {
		fmt.Fprintln(os.Stderr, "weave-beam: worker boot: pipeline options:", err)
		return 1
	}
	if err := tools.MakePipelineOptionsFileAndEnvVar(opts); err != nil {
		fmt.Fprintln(os.Stderr, "weave-beam: worker boot:", err)
		return 1
	}
	if ep := info.GetStatusEndpoint(); ep != nil {
		os.Setenv("STATUS_ENDPOINT", ep.GetUrl())
	}
	if caps := info.GetRunnerCapabilities(); len(caps) > 0 {
		os.Setenv("RUNNER_CAPABILITIES", strings.Join(caps, " "))
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "weave-beam: worker boot:", err)
		return 1
	}
	args := []string{self, "--worker=true", "--id=" + id,
		"--logging_endpoint=" + info.GetLoggingEndpoint().GetUrl(),
		"--control_endpoint=" + info.GetControlEndpoint().GetUrl(),
		"--semi_persist_dir=" + os.TempDir()}
	err = syscall.Exec(self, args, os.Environ())
	fmt.Fprintln(os.Stderr, "weave-beam: worker boot: starting the harness:", err)
	return 1
}
