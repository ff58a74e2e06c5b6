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

package scanner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitseal/gitseal/internal/policy"
)

// benchTree writes n manifest files into a new directory and returns it.
func benchTree(b *testing.B, n int) string {
	b.Helper()
	root := b.TempDir()
	writeBenchTree(b, root, n)
	return root
}

// writeBenchTree writes n manifest files of the kinds a GitOps repository
// holds: Deployments, Services, ConfigMaps, SealedSecrets and, one in a
// hundred, a plaintext Secret.
func writeBenchTree(t testing.TB, root string, n int) {
	t.Helper()
	for i := range n {
		dir := filepath.Join(root, "apps", fmt.Sprintf("team%02d", i%50), fmt.Sprintf("svc%03d", i/50))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var name, body string
		switch i % 4 {
		case 0:
			name, body = "deployment.yaml", fmt.Sprintf(benchDeployment, i, i, i)
		case 1:
			name, body = "service.yaml", fmt.Sprintf(benchService, i, i)
		case 2:
			name, body = "configmap.yaml", fmt.Sprintf(benchConfigMap, i, i)
		default:
			name, body = "secret.yaml", fmt.Sprintf(benchSealed, i)
			if i%100 == 3 {
				body = fmt.Sprintf(benchSecret, i, i)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	benchDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-%d
  namespace: team
  labels: {app.kubernetes.io/name: svc, app.kubernetes.io/part-of: shop}
spec:
  replicas: 2
  selector:
    matchLabels: {app: svc-%d}
  template:
    metadata:
      labels: {app: svc-%d}
    spec:
      containers:
      - name: app
        image: registry.example.com/shop/app@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
        ports: [{containerPort: 8080}]
        env:
        - {name: LOG_LEVEL, value: info}
        - {name: DB_HOST, value: postgres.team.svc.cluster.local}
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: db, key: password}}
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {memory: 256Mi}
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
`
	benchService = `apiVersion: v1
kind: Service
metadata:
  name: svc-%d
  namespace: team
spec:
  selector: {app: svc-%d}
  ports:
  - {name: http, port: 80, targetPort: 8080}
`
	benchConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: svc-%d
  namespace: team
data:
  app.properties: |
    server.port=8080
    feature.checkout=true
    cache.ttl=300
  instance: "%d"
`
	benchSealed = `apiVersion: gitseal.dev/v1alpha1
kind: SealedSecret
metadata:
  name: db-%d
  namespace: team
spec:
  encryptedData:
    password: gs1:bdd7357af20706de:YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBFdkV0bWlQaE1aN3dzM3FQUFRXaVdNbkJ1bW5zUVV4clZFamZaQktVS0E0CmdOWGdOZ0xQbmN2ZmRRWGl2UE1RM2hnM0hXWk9PZEk3Qm5WZlVNTkxCZk0KLS0tIGN0aVJ1M0FXbGk2OHNyS1RKVGkwU2RlOThkb3c2ZUtUZ1dHZE1XZ1VjaFEKwr8y
`
	benchSecret = `apiVersion: v1
kind: Secret
metadata:
  name: leaked-%d
  namespace: team
stringData:
  password: benchmark-plaintext-%d
`
)

// BenchmarkScanTree scans a tree of 10,000 manifest files, as `gitseal
// scan apps/` does. The goal is under 2 s on the 2-core development
// machine (docs/benchmarks.md).
func BenchmarkScanTree(b *testing.B) {
	root := benchTree(b, 10_000)
	s := &Scanner{Policy: policy.New(policy.Options{})}
	b.ResetTimer()
	for b.Loop() {
		rep, err := s.ScanPaths(context.Background(), root, []string{root})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Files != 10_000 || len(rep.Failing()) != 100 {
			b.Fatalf("%d files, %d findings; want 10000 and 100", rep.Files, len(rep.Failing()))
		}
	}
}
