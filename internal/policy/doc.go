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

// Package policy decides whether Kubernetes manifests and other text put a
// secret into Git in plain text. The CLI (gitseal scan) and the controller's
// in-cluster refusal both call it, so they share one parser and one verdict.
//
// There are two entry points, which run the same decision code:
// [Policy.CheckFile] takes raw file bytes and reports findings with line
// numbers; [Policy.CheckObject] takes one decoded object, such as the Object
// of an unstructured.Unstructured. Neither ever puts a secret value into a
// finding, an error or any other output: findings carry a redacted preview.
package policy
