/*
Copyright 2026 The gitseal Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package promcheck checks config/prometheus with Prometheus's own code:
// the alerts with `promtool test rules` (config/prometheus/tests), and every
// query of the alerts and the Grafana dashboard with the PromQL parser,
// against the metrics the controller serves. It is a module of its own so
// that the Prometheus module is no dependency of gitseal. Run it with
// `make test-prometheus`, which installs the pinned promtool.
package promcheck

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

const dir = "../../config/prometheus"

// TestAlertRulesPassTheirTests runs promtool's unit tests of the alerts on
// the PrometheusRule's spec, the rule file Prometheus gets from it.
func TestAlertRulesPassTheirTests(t *testing.T) {
	promtool := os.Getenv("PROMTOOL")
	if promtool == "" {
		t.Fatal("PROMTOOL is not set; run `make test-prometheus`, which installs it")
	}
	work := t.TempDir()
	rules, err := yaml.Marshal(ruleSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "rules.yaml"), rules, 0o600); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(dir, "tests", "rules_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "rules_test.yaml"), tests, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "rules_test.yaml"}} {
		cmd := exec.Command(promtool, args...) // the pinned promtool on our own files
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestQueriesUseServedMetrics parses every query of the alerts and the
// dashboard, and checks that each metric it reads is one the controller
// serves (tests/metrics.txt, kept current by the controllers' tests).
func TestQueriesUseServedMetrics(t *testing.T) {
	served := servedMetrics(t)
	queries := map[string]string{} // where → query
	for _, g := range ruleSpec(t).Groups {
		for _, r := range g.Rules {
			queries["alert "+r.Alert] = r.Expr
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if len(dash.Panels) == 0 {
		t.Fatal("grafana-dashboard.json has no panels")
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			queries["panel "+p.Title+" "+tg.RefID] = tg.Expr
		}
	}
	// Grafana's own variables, as Grafana replaces them.
	grafana := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m")
	p := parser.NewParser(parser.Options{})
	for where, q := range queries {
		expr, err := p.ParseExpr(grafana.Replace(q))
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		n := 0
		parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
			if vs, ok := node.(*parser.VectorSelector); ok {
				n++
				if !served[vs.Name] {
					t.Errorf("%s reads %s, which the controller does not serve", where, vs.Name)
				}
			}
			return nil
		})
		if n == 0 {
			t.Errorf("%s reads no metric: %s", where, q)
		}
	}
}

// ruleGroups is a Prometheus rule file, the spec of a PrometheusRule.
type ruleGroups struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for,omitempty"`
			Labels      map[string]string `yaml:"labels,omitempty"`
			Annotations map[string]string `yaml:"annotations,omitempty"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func ruleSpec(t *testing.T) ruleGroups {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var pr struct {
		Kind string     `yaml:"kind"`
		Spec ruleGroups `yaml:"spec"`
	}
	if err := yaml.Unmarshal(raw, &pr); err != nil {
		t.Fatalf("prometheusrule.yaml: %v", err)
	}
	if pr.Kind != "PrometheusRule" || len(pr.Spec.Groups) == 0 {
		t.Fatalf("prometheusrule.yaml: a PrometheusRule with no groups (kind %q)", pr.Kind)
	}
	return pr.Spec
}

func servedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "tests", "metrics.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out[line] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !out["gitseal_keys"] {
		t.Fatal("tests/metrics.txt lists no gitseal metric")
	}
	return out
}
