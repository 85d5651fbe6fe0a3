package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	ucli "github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/internal/guesttext"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// The exports ABI v1 requires (wasmabi/ABI.md).
var abiExports = []string{"dw_abi_version", "dw_reserve", "dw_bind", "dw_process"}

func (w *weave) inspectCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "inspect",
		Usage:     "show a .wasm module's ABI version, imports, exports and what its handshake declares",
		ArgsUsage: "MODULE.wasm",
		Description: "Reads the module's imports and exports, then instantiates it in the same sandbox as the wasm " +
			"stage (no files, no environment, a 10s limit), asks its ABI version and runs the handshake with " +
			"--config and --schema. The handshake needs an input schema; without --schema the module answers for an " +
			"empty input, which usually lists the columns it expects.",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "config", Usage: "the stage config to send, YAML or JSON (e.g. '{column: amount, op: \">=\", value: 0}')"},
			&ucli.StringFlag{Name: "schema", Usage: "input columns as name:type,... with ABI type names (e.g. 'id:int64,email:utf8')"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() != 1 {
				return usagef("inspect takes one module, got %d arguments", c.NArg())
			}
			var conf any
			if s := c.String("config"); s != "" {
				if err := yaml.Unmarshal([]byte(s), &conf); err != nil {
					return usagef("--config: %v", err)
				}
			}
			schema, err := parseSchemaFlag(c.String("schema"))
			if err != nil {
				return usagef("--schema: %v", err)
			}
			path := c.Args().First()
			// The same bounds as a wasm stage's defaults: a compile bomb
			// fails here in milliseconds instead of compiling for minutes.
			wasm, err := wasmabi.ReadModule(path, wasmabi.NewConfig())
			if err != nil {
				return err
			}
			if err := wasmabi.CheckModule(wasm, wasmabi.NewConfig()); err != nil {
				return fmt.Errorf("module[%s]: %w", path, err)
			}
			return inspectModule(c.Context, w.opts.Stdout, path, wasm, conf, schema)
		},
	}
}

type inspectField struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

func parseSchemaFlag(s string) ([]inspectField, error) {
	fields := []inspectField{}
	if strings.TrimSpace(s) == "" {
		return fields, nil
	}
	for _, part := range strings.Split(s, ",") {
		name, typ, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || name == "" || typ == "" {
			return nil, fmt.Errorf("%q: want name:type", part)
		}
		fields = append(fields, inspectField{Name: name, Type: typ, Nullable: true})
	}
	return fields, nil
}

// inspectModule prints what can be read from the binary, then what the
// module says about itself when run.
func inspectModule(ctx context.Context, out io.Writer, path string, wasm []byte, conf any, schema []inspectField) error {
	// Configured as a stage with the default limits is, so that the
	// compilation cache holds this module's code after a run (or the
	// first inspect) and inspecting costs milliseconds, not a compile.
	rc := wazero.NewRuntimeConfigCompiler().
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(uint32(wasmabi.DefaultMemoryLimit >> 16))
	if cache, err := wasmabi.CompilationCache(wasmabi.NewConfig()); err == nil && cache != nil {
		rc = rc.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	defer rt.Close(context.Background())
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return fmt.Errorf("module[%s]: %w: %w", path, wasmabi.ErrModule, err)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "module: %s (%d bytes)\n", path, len(wasm))

	imports := compiled.ImportedFunctions()
	fmt.Fprintf(tw, "imports: %d functions\n", len(imports))
	var foreign []string
	for _, f := range imports {
		mod, name, _ := f.Import()
		fmt.Fprintf(tw, "  %s.%s\t%s\n", guesttext.Escape(mod), guesttext.Escape(name), signature(f))
		if mod != wasi_snapshot_preview1.ModuleName && !(mod == "dataweaver" && name == "log") {
			foreign = append(foreign, guesttext.Escape(mod+"."+name))
		}
	}
	exports := compiled.ExportedFunctions()
	names := make([]string, 0, len(exports))
	for n := range exports {
		names = append(names, n)
	}
	slices.Sort(names)
	fmt.Fprintf(tw, "exports: %d functions\n", len(names))
	for _, n := range names {
		fmt.Fprintf(tw, "  %s\t%s\n", guesttext.Escape(n), signature(exports[n]))
	}
	for n, m := range compiled.ExportedMemories() {
		max := "none"
		if v, ok := m.Max(); ok {
			max = fmt.Sprint(v)
		}
		fmt.Fprintf(tw, "memory: %q, %d pages of 64 KiB at start, max %s\n", n, m.Min(), max)
	}
	var missing []string
	for _, e := range abiExports {
		if _, ok := exports[e]; !ok {
			missing = append(missing, e)
		}
	}
	switch {
	case len(missing) > 0:
		fmt.Fprintf(tw, "abi: not a DataWeaver stage: missing %s\n", strings.Join(missing, ", "))
	case len(foreign) > 0:
		fmt.Fprintf(tw, "abi: unusable: imports %s (a stage may import only %s and dataweaver.log)\n", strings.Join(foreign, ", "), wasi_snapshot_preview1.ModuleName)
	}
	if len(missing) > 0 || len(foreign) > 0 {
		_ = tw.Flush()
		return fmt.Errorf("module[%s]: %w", path, wasmabi.ErrModule)
	}

	// Run it: the same host modules as the stage, logs and stderr kept.
	// The time limit covers running the guest, not compiling it, which
	// can take seconds for a large module on a busy machine.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var logs, stderr bytes.Buffer
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return err
	}
	_, err = rt.NewHostModuleBuilder("dataweaver").NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, m api.Module, stack []uint64) {
			if msg, ok := m.Memory().Read(uint32(stack[1]), min(uint32(stack[2]), 4096)); ok {
				fmt.Fprintf(&logs, "level %d: %s\n", int32(stack[0]), guesttext.Escape(string(msg)))
			}
		}), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil).
		Export("log").Instantiate(ctx)
	if err != nil {
		return err
	}
	mod, err := rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName("").
		WithStartFunctions("_initialize").WithStderr(&stderr).WithSysNanotime().WithSysWalltime())
	if err != nil {
		_ = tw.Flush()
		return fmt.Errorf("module[%s] function[_initialize]: %w: %v%s", path, wasmabi.ErrGuestTrap, firstLine(err), stderrSuffix(&stderr))
	}
	call := func(name string, args ...uint64) (uint32, error) {
		res, err := mod.ExportedFunction(name).Call(ctx, args...)
		if err != nil {
			return 0, fmt.Errorf("module[%s] function[%s]: %w: %v%s", path, name, wasmabi.ErrGuestTrap, firstLine(err), stderrSuffix(&stderr))
		}
		if len(res) == 0 {
			return 0, fmt.Errorf("module[%s] function[%s]: %w: returned nothing", path, name, wasmabi.ErrModule)
		}
		return uint32(res[0]), nil
	}
	v, err := call("dw_abi_version")
	if err != nil {
		_ = tw.Flush()
		return err
	}
	// This weave speaks v1 and v2 (wasmabi/ABI.md, Version 2).
	if int32(v) != wasmabi.Version && int32(v) != 2 {
		fmt.Fprintf(tw, "abi: v%d, but this weave speaks v1 and v2, so it cannot run this module\n", int32(v))
		_ = tw.Flush()
		return fmt.Errorf("module[%s]: %w: module speaks v%d, this host speaks v1 and v2", path, wasmabi.ErrABIVersion, int32(v))
	}
	fmt.Fprintf(tw, "abi: v%d (this weave speaks v1 and v2)\n", v)

	// The handshake, as wasmabi does it: request JSON in a reserved region,
	// a length-prefixed JSON answer back.
	raw := jsonNoEscape(conf)
	req, _ := json.Marshal(map[string]any{"abi": int32(v), "stage": "inspect", "config": json.RawMessage(raw), "schema": schema})
	p, err := call("dw_reserve", uint64(len(req)+64))
	if err != nil {
		_ = tw.Flush()
		return err
	}
	if !mod.Memory().Write(p, req) {
		return fmt.Errorf("module[%s] function[dw_reserve]: %w: returned %#x, outside its memory", path, wasmabi.ErrGuestOutput, p)
	}
	rp, err := call("dw_bind", uint64(p), uint64(len(req)))
	if err != nil {
		_ = tw.Flush()
		return err
	}
	n, ok := mod.Memory().ReadUint32Le(rp)
	body, ok2 := mod.Memory().Read(rp+4, min(n, 1<<20))
	var ans struct {
		Reads  []string          `json:"reads"`
		Writes []json.RawMessage `json:"writes"`
		Drops  []string          `json:"drops"`
		Filter bool              `json:"filter"`
		Error  string            `json:"error"`
		// v2 only.
		DropAll bool `json:"drop_all"`
		State   bool `json:"state"`
	}
	if !ok || !ok2 || json.Unmarshal(body, &ans) != nil {
		_ = tw.Flush()
		return fmt.Errorf("module[%s] function[dw_bind]: %w: the answer is not a length-prefixed JSON object", path, wasmabi.ErrGuestOutput)
	}
	input := "(empty input schema; pass --schema)"
	if len(schema) > 0 {
		var parts []string
		for _, f := range schema {
			parts = append(parts, f.Name+":"+f.Type)
		}
		input = strings.Join(parts, ",")
	}
	fmt.Fprintf(tw, "handshake: config %s, input %s\n", raw, input)
	if ans.Error != "" {
		fmt.Fprintf(tw, "  error\t%s\n", guesttext.Escape(ans.Error))
	} else {
		fmt.Fprintf(tw, "  reads\t%s\n", guesttext.Escape(strings.Join(ans.Reads, ", ")))
		var ws []string
		for _, w := range ans.Writes {
			var f inspectField
			_ = json.Unmarshal(w, &f)
			ws = append(ws, f.Name+":"+f.Type)
		}
		fmt.Fprintf(tw, "  writes\t%s\n", guesttext.Escape(strings.Join(ws, ", ")))
		fmt.Fprintf(tw, "  drops\t%s\n", guesttext.Escape(strings.Join(ans.Drops, ", ")))
		fmt.Fprintf(tw, "  filter\t%t\n", ans.Filter)
		if int32(v) == 2 {
			fmt.Fprintf(tw, "  drop_all\t%t\n  state\t%t\n", ans.DropAll, ans.State)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if l != "" {
			fmt.Fprintf(tw, "  log\t%s\n", l)
		}
	}
	return tw.Flush()
}

func signature(f api.FunctionDefinition) string {
	types := func(ts []api.ValueType) string {
		var s []string
		for _, t := range ts {
			s = append(s, api.ValueTypeName(t))
		}
		return strings.Join(s, ", ")
	}
	return "(" + types(f.ParamTypes()) + ") -> (" + types(f.ResultTypes()) + ")"
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func stderrSuffix(b *bytes.Buffer) string {
	s := strings.TrimSpace(b.String())
	if i := strings.Index(s, "\n\ngoroutine "); i > 0 {
		s = s[:i]
	}
	if s == "" {
		return ""
	}
	// Escaped as the host escapes every guest string, so a module cannot
	// drive the terminal weave inspect prints to.
	return "; guest stderr: " + guesttext.Escape(s[:min(len(s), 1024)])
}

// jsonNoEscape marshals v for display: "op": ">=" stays readable.
func jsonNoEscape(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimRight(b.Bytes(), "\n")
}
