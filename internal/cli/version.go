package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	ucli "github.com/urfave/cli/v2"
)

func (w *weave) versionCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "version",
		Usage: "print weave's version",
		Action: func(c *ucli.Context) error {
			fmt.Fprintln(w.opts.Stdout, versionString(w.opts.Version, debug.ReadBuildInfo))
			return nil
		},
	}
}

// versionString prefers the linker-set version of a release build, then
// the module version `go install …@v1.2.3` records, then the VCS revision
// a build from a checkout records.
func versionString(linked string, info func() (*debug.BuildInfo, bool)) string {
	v := linked
	var rev, dirty string
	if bi, ok := info(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	out := "weave " + v
	if rev != "" {
		out += fmt.Sprintf(" (commit %.12s%s)", rev, dirty)
	}
	return out + fmt.Sprintf(" %s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
