package coordinator_test

import (
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/internal/testenv"
)

// The README's N-workers sections show systemd units and Kubernetes
// manifests that cannot run here (no systemd as PID 1, no cluster).
// TestDeployExamples checks what can be checked without them.

// readmeSections returns the README's two N-workers sections.
func readmeSections(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "### Running N workers (Kafka and JetStream sources)")
	end := strings.Index(s, "## Using it from Go")
	if start < 0 || end < start {
		t.Fatal("README.md: the N workers sections are not where this test looks (### Running N workers … ## Using it from Go)")
	}
	return s[start:end]
}

var fence = regexp.MustCompile("(?s)```(ini|yaml)\n(.*?)```")

// manifest is the part of a Deployment, StatefulSet or Job the README
// uses, decoded strictly: a field not here (misspelt, misplaced) fails.
type manifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Replicas     *int   `yaml:"replicas"`
		Parallelism  *int   `yaml:"parallelism"`
		Completions  *int   `yaml:"completions"`
		BackoffLimit *int   `yaml:"backoffLimit"`
		ServiceName  string `yaml:"serviceName"`
		Selector     *struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				RestartPolicy                 string      `yaml:"restartPolicy"`
				TerminationGracePeriodSeconds *int        `yaml:"terminationGracePeriodSeconds"`
				Containers                    []container `yaml:"containers"`
				Volumes                       []struct {
					Name      string                 `yaml:"name"`
					ConfigMap *struct{ Name string } `yaml:"configMap"`
					EmptyDir  *struct{}              `yaml:"emptyDir"`
					Secret    *struct {
						SecretName string `yaml:"secretName"`
					} `yaml:"secret"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Env   []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom any    `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	VolumeMounts   []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

func TestDeployExamples(t *testing.T) {
	sections := readmeSections(t)
	var units, manifests []string
	for _, m := range fence.FindAllStringSubmatch(sections, -1) {
		switch {
		case m[1] == "ini":
			units = append(units, m[2])
		case strings.Contains(m[2], "\nkind: "):
			manifests = append(manifests, m[2])
		}
	}
	if len(units) < 2 || len(manifests) < 3 {
		t.Fatalf("found %d units and %d manifests in the README's N workers sections, want at least 2 and 3", len(units), len(manifests))
	}
	t.Run("systemd", func(t *testing.T) { verifyUnits(t, units) })
	for _, text := range manifests {
		var m manifest
		dec := yaml.NewDecoder(strings.NewReader(text))
		dec.KnownFields(true)
		if err := dec.Decode(&m); err != nil {
			t.Errorf("manifest:\n%s\n%v", text, err)
			continue
		}
		t.Run(m.Kind+"/"+m.Metadata.Name, func(t *testing.T) { checkManifest(t, m) })
	}
}

// checkManifest checks what the API server and the kubelet would hold
// against m, as far as the fields used go.
func checkManifest(t *testing.T, m manifest) {
	spec, pod := m.Spec, m.Spec.Template.Spec
	want := map[string]string{"Deployment": "apps/v1", "StatefulSet": "apps/v1", "Job": "batch/v1"}[m.Kind]
	if want == "" || m.APIVersion != want {
		t.Errorf("apiVersion %q kind %q: want a Deployment, StatefulSet (apps/v1) or Job (batch/v1)", m.APIVersion, m.Kind)
	}
	if m.Metadata.Name == "" {
		t.Error("no metadata.name")
	}
	switch m.Kind {
	case "Job":
		if pod.RestartPolicy != "OnFailure" && pod.RestartPolicy != "Never" {
			t.Errorf("a Job's pods need restartPolicy OnFailure or Never, got %q", pod.RestartPolicy)
		}
		if spec.Parallelism == nil || spec.Replicas != nil {
			t.Error("a Job sets parallelism, not replicas")
		}
	default:
		if pod.RestartPolicy != "" && pod.RestartPolicy != "Always" {
			t.Errorf("a %s's pods restart Always, got %q", m.Kind, pod.RestartPolicy)
		}
		if spec.Selector == nil || len(spec.Selector.MatchLabels) == 0 {
			t.Fatalf("a %s needs spec.selector.matchLabels", m.Kind)
		}
	}
	if spec.Selector != nil {
		for k, v := range spec.Selector.MatchLabels {
			if spec.Template.Metadata.Labels[k] != v {
				t.Errorf("selector %s=%s does not match the pod labels %v", k, v, spec.Template.Metadata.Labels)
			}
		}
	}
	volumes := map[string]bool{}
	for _, v := range pod.Volumes {
		n := 0
		for _, set := range []bool{v.ConfigMap != nil, v.EmptyDir != nil, v.Secret != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			t.Errorf("volume %s: want exactly one source (configMap, emptyDir, secret)", v.Name)
		}
		volumes[v.Name] = true
	}
	if len(pod.Containers) == 0 {
		t.Fatal("no container")
	}
	for _, c := range pod.Containers {
		if c.Name == "" || c.Image == "" {
			t.Errorf("container %+v: name and image are required", c)
		}
		ports := map[string]bool{}
		for _, p := range c.Ports {
			if p.ContainerPort < 1 || p.ContainerPort > 65535 {
				t.Errorf("container port %d", p.ContainerPort)
			}
			ports[p.Name] = true
		}
		for _, p := range []*probe{c.LivenessProbe, c.ReadinessProbe} {
			if p != nil && (!ports[p.HTTPGet.Port] || !strings.HasPrefix(p.HTTPGet.Path, "/")) {
				t.Errorf("probe %+v: its port must name a container port (%v) and its path start with /", p.HTTPGet, ports)
			}
		}
		var mounts []string
		for _, vm := range c.VolumeMounts {
			if !volumes[vm.Name] {
				t.Errorf("volume mount %s has no volume", vm.Name)
			}
			mounts = append(mounts, vm.MountPath)
		}
		// weave [global flags] run FILE [flags]: FILE must be mounted.
		i := slicesIndex(c.Args, "run")
		if i < 0 || i+1 >= len(c.Args) {
			t.Fatalf("args %q: want weave's run command and a pipeline file", c.Args)
		}
		file := c.Args[i+1]
		mounted := false
		for _, mp := range mounts {
			if strings.HasPrefix(file, strings.TrimSuffix(mp, "/")+"/") {
				mounted = true
			}
		}
		if !path.IsAbs(file) || !mounted {
			t.Errorf("pipeline file %s is not under a volume mount %v", file, mounts)
		}
	}
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// verifyUnits runs systemd-analyze verify on each unit, with this test's
// own executable standing in for /usr/local/bin/weave (verify wants
// ExecStart's program to exist). A template unit is verified as its
// instance 1. Any message fails: verify exits 0 on some parse errors.
func verifyUnits(t *testing.T, units []string) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testenv.Missing(t, "systemd-analyze is missing (apt-get install systemd): the README's units are not verified")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`(?m)^# /etc/systemd/system/(\S+)$`)
	dir := t.TempDir()
	for _, u := range units {
		m := name.FindStringSubmatch(u)
		if m == nil {
			t.Errorf("unit without its path in a first comment line:\n%s", u)
			continue
		}
		file := filepath.Join(dir, strings.Replace(m[1], "@.", "@1.", 1))
		text := strings.ReplaceAll(u, "/usr/local/bin/weave", self)
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tool, "verify", file).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", m[1], err, out)
		}
	}
}
