package sealer

import (
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
	"github.com/gitseal/gitseal/crypto"
)

const canary = "canary-9c2e-plaintext"

func identity(t *testing.T) *crypto.Identity {
	t.Helper()
	id, err := crypto.GenerateIdentity(crypto.X25519)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func secret() *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: "db", Namespace: "prod",
			Labels:      map[string]string{"app": "db"},
			Annotations: map[string]string{"note": "x", annotationLastApplied: `{"stringData":{"password":"` + canary + `"}}`},
		},
		Type:       corev1.SecretTypeBasicAuth,
		Data:       map[string][]byte{"username": []byte("admin"), "password": []byte("old")},
		StringData: map[string]string{"password": canary},
	}
}

func TestSealThenOpen(t *testing.T) {
	id := identity(t)
	ss, err := Seal(secret(), crypto.Strict, []*crypto.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	if ss.Kind != "SealedSecret" || ss.Name != "db" || ss.Namespace != "prod" {
		t.Errorf("object %s %s/%s", ss.Kind, ss.Namespace, ss.Name)
	}
	tpl := ss.Spec.Template
	if tpl == nil || tpl.Type != string(corev1.SecretTypeBasicAuth) || tpl.Metadata.Labels["app"] != "db" || tpl.Metadata.Annotations["note"] != "x" {
		t.Errorf("template %+v", tpl)
	}
	if _, ok := tpl.Metadata.Annotations[annotationLastApplied]; ok {
		t.Error("last-applied-configuration, which holds plaintext, was carried into the template")
	}
	opened, err := Open(ss, []*crypto.Identity{id})
	if err != nil {
		t.Fatal(err)
	}
	if string(opened.Data["password"]) != canary || string(opened.Data["username"]) != "admin" || len(opened.Data) != 2 {
		t.Errorf("opened keys %v", slices.Sorted(func(yield func(string) bool) {
			for k := range opened.Data {
				yield(k)
			}
		}))
	}
	if !slices.Equal(opened.KeyIDs, []crypto.KeyID{id.ID()}) {
		t.Errorf("key IDs %v", opened.KeyIDs)
	}
}

func TestOpenIsAllOrNothing(t *testing.T) {
	id, other := identity(t), identity(t)
	ss, _ := Seal(secret(), crypto.Strict, []*crypto.Recipient{id.Recipient()})
	foreign, _ := SealItem([]byte("x"), crypto.Binding{Scope: crypto.Strict, Namespace: "prod", Name: "db", Key: "zzz"}, []*crypto.Recipient{other.Recipient()})
	ss.Spec.EncryptedData["zzz"] = foreign

	opened, err := Open(ss, []*crypto.Identity{id})
	var serr *Error
	if opened != nil || !errors.As(err, &serr) {
		t.Fatalf("got %v, %v", opened, err)
	}
	if serr.Reason != gitsealv1alpha1.ReasonNoMatchingKey || serr.Item != "zzz" {
		t.Errorf("reason %s item %s", serr.Reason, serr.Item)
	}
	if strings.Contains(err.Error(), canary) {
		t.Error("error leaks plaintext")
	}
}

func TestOpenChecksTheObjectsOwnBinding(t *testing.T) {
	id := identity(t)
	tests := []struct {
		name   string
		mutate func(*gitsealv1alpha1.SealedSecret)
		reason string
	}{
		{"copied to another namespace is a scope mismatch", func(ss *gitsealv1alpha1.SealedSecret) { ss.Namespace = "dev" }, gitsealv1alpha1.ReasonScopeMismatch},
		{"renamed is a scope mismatch", func(ss *gitsealv1alpha1.SealedSecret) { ss.Name = "db2" }, gitsealv1alpha1.ReasonScopeMismatch},
		{"value moved to another item key is a scope mismatch", func(ss *gitsealv1alpha1.SealedSecret) {
			ss.Spec.EncryptedData["token"] = ss.Spec.EncryptedData["password"]
		}, gitsealv1alpha1.ReasonScopeMismatch},
		{"truncated value is a decryption failure", func(ss *gitsealv1alpha1.SealedSecret) {
			v := ss.Spec.EncryptedData["password"]
			ss.Spec.EncryptedData["password"] = v[:len(v)-8]
		}, gitsealv1alpha1.ReasonDecryptionFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss, _ := Seal(secret(), crypto.Strict, []*crypto.Recipient{id.Recipient()})
			tt.mutate(ss)
			_, err := Open(ss, []*crypto.Identity{id})
			var serr *Error
			if !errors.As(err, &serr) || serr.Reason != tt.reason {
				t.Fatalf("got %v, want reason %s", err, tt.reason)
			}
		})
	}
}

func TestSealRefusesWhatCannotBeSealed(t *testing.T) {
	r := []*crypto.Recipient{identity(t).Recipient()}
	noNS := secret()
	noNS.Namespace = ""
	if _, err := Seal(noNS, crypto.Strict, r); err == nil || !strings.Contains(err.Error(), "no namespace") {
		t.Errorf("strict without namespace: %v", err)
	}
	if _, err := Seal(noNS, crypto.Cluster, r); err != nil {
		t.Errorf("cluster without namespace: %v", err)
	}
	empty := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "n"}}
	if _, err := Seal(empty, crypto.Strict, r); err == nil {
		t.Error("empty secret sealed")
	}
	big := secret()
	big.Data = map[string][]byte{"a": make([]byte, MaxSecretSize/2+1), "b": make([]byte, MaxSecretSize/2+1)}
	big.StringData = nil
	if _, err := Seal(big, crypto.Strict, r); err == nil {
		t.Error("a Secret over 1 MiB was sealed")
	}
}

func TestResealKeepsTheAuthenticatedBinding(t *testing.T) {
	oldKey, newKey := identity(t), identity(t)
	ss, _ := Seal(secret(), crypto.Namespace, []*crypto.Recipient{oldKey.Recipient()})
	// A request may carry another name; a namespace-scoped value still
	// opens, and the re-sealed one keeps namespace scope, not strict.
	ss.Name = "renamed"
	before := ss.Spec.EncryptedData["username"]
	keepUsername := func(item string, _ *crypto.Info) bool { return item == "username" }
	out, changed, err := Reseal(ss, []*crypto.Identity{oldKey}, []*crypto.Recipient{newKey.Recipient()}, keepUsername)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(changed, []string{"password"}) || out.Spec.EncryptedData["username"] != before {
		t.Errorf("changed %v; untouched item must stay byte for byte", changed)
	}
	got, err := crypto.Open(string(out.Spec.EncryptedData["password"]), crypto.Binding{Namespace: "prod", Name: "anything", Key: "password"}, newKey)
	if err != nil || got.Binding.Scope != crypto.Namespace || string(got.Value) != canary {
		t.Fatalf("re-sealed value: %+v %v", got, err)
	}
	// A strict value presented under another name does not re-seal.
	strict, _ := Seal(secret(), crypto.Strict, []*crypto.Recipient{oldKey.Recipient()})
	strict.Name = "renamed"
	if _, _, err := Reseal(strict, []*crypto.Identity{oldKey}, []*crypto.Recipient{newKey.Recipient()}, nil); err == nil {
		t.Error("a renamed strict object was re-sealed")
	}
}

// TestAnnotatedScope: scope annotations on the input, Bitnami's and
// gitseal's own, choose the scope or are refused; never ignored (issue 11,
// item 2).
func TestAnnotatedScope(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		want        crypto.Scope
		wantErr     string
	}{
		{"no annotation asks for nothing", map[string]string{"note": "x"}, "", ""},
		{"Bitnami namespace-wide asks for namespace scope", map[string]string{AnnotationBitnamiNamespaceWide: "true"}, crypto.Namespace, ""},
		{"Bitnami cluster-wide asks for cluster scope", map[string]string{AnnotationBitnamiClusterWide: "true"}, crypto.Cluster, ""},
		{"a Bitnami annotation set to false asks for nothing", map[string]string{AnnotationBitnamiClusterWide: "false"}, "", ""},
		{"gitseal.dev/scope names the scope", map[string]string{AnnotationScope: "namespace"}, crypto.Namespace, ""},
		{"agreeing annotations are fine", map[string]string{AnnotationScope: "cluster", AnnotationBitnamiClusterWide: "true"}, crypto.Cluster, ""},
		{"both Bitnami annotations disagree", map[string]string{AnnotationBitnamiNamespaceWide: "true", AnnotationBitnamiClusterWide: "true"}, "", "asks for cluster scope"},
		{"gitseal and Bitnami annotations that disagree are an error", map[string]string{AnnotationScope: "strict", AnnotationBitnamiClusterWide: "true"}, "", "asks for strict scope"},
		{"an unknown gitseal.dev/scope is an error", map[string]string{AnnotationScope: "wide"}, "", "unknown scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := AnnotatedScope(tt.annotations)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("AnnotatedScope = %q, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("AnnotatedScope = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestSealDropsScopeAnnotations: the scope annotations never reach the
// template, where they would claim a scope the values may not have.
func TestSealDropsScopeAnnotations(t *testing.T) {
	s := secret()
	s.Annotations[AnnotationBitnamiClusterWide] = "true"
	s.Annotations[AnnotationBitnamiNamespaceWide] = "false"
	s.Annotations[AnnotationScope] = "cluster"
	ss, err := Seal(s, crypto.Cluster, []*crypto.Recipient{identity(t).Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range scopeAnnotations {
		if _, ok := ss.Spec.Template.Metadata.Annotations[k]; ok {
			t.Errorf("%s was copied into the template", k)
		}
	}
	if ss.Spec.Template.Metadata.Annotations["note"] != "x" {
		t.Error("another annotation was dropped")
	}
}
