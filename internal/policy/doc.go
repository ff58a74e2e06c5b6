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
