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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GitSyncSpec is the desired state of a GitSync: which revision of which
// repository to build, and how to apply it.
type GitSyncSpec struct {
	// URL of the Git repository: https://host/path or ssh://user@host/path
	// (or the short form user@host:path). Credentials never go in the URL:
	// name a Secret in secretRef.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^(https://|ssh://|[-._a-zA-Z0-9]+@[-._a-zA-Z0-9]+:)[^\s]+$`
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[a-z]+://[^/@]*:[^/@]*@')",message="url must not hold a password: put credentials in the Secret named by secretRef"
	URL string `json:"url"`

	// Ref selects the revision: a branch, a tag, a commit or a semver
	// range of tags. Empty means the repository's default branch.
	// +optional
	Ref *GitRef `json:"ref,omitempty"`

	// Path in the repository to build: a directory with a
	// kustomization.yaml, or a directory of plain manifests. Defaults to
	// the root of the repository.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.split('/').exists(s, s == '..')",message="path must be relative to the repository root and must not contain '..'"
	Path string `json:"path,omitempty"`

	// Interval between syncs. Every sync fetches and builds the revision
	// and applies what changed in Git since the last sync. A change made
	// by hand to an applied object is seen by watch and undone at once
	// where the controller may watch its kind, else by the next full check
	// (fullCheckInterval).
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Interval metav1.Duration `json:"interval"`

	// FullCheckInterval is how often a sync is a full check: a server-side
	// dry run and an apply of every object, which undoes the hand edits and
	// deletions the drift watch did not see. The syncs in between send
	// only the objects that changed in Git or drifted, and nothing at all
	// when none did.
	// A new spec, a failed last sync and a requested sync
	// (gitseal.dev/reconcile-requested-at) are always full checks.
	// Defaults to 1h; a value below interval makes every sync a full check.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	FullCheckInterval *metav1.Duration `json:"fullCheckInterval,omitempty"`

	// RetryInterval is the wait before the first retry of a sync that
	// failed for a reason that may pass (the network, the API server); each
	// further failure in a row doubles it, up to interval. Defaults to 30s,
	// or interval when that is shorter. A failure that only a new commit or
	// a new spec can fix waits for the next interval.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	RetryInterval *metav1.Duration `json:"retryInterval,omitempty"`

	// Timeout bounds one sync: fetch, build and apply. Defaults to 2m.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// SecretRef names a Secret in the GitSync's namespace with the
	// credentials for the repository: username and password, or
	// bearerToken, for https; identity (a private key) and known_hosts for
	// ssh; ca.crt for an https server with a private certificate authority.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// Verify, when set, applies only a commit signed with SSH (git's
	// gpg.format=ssh) by one of the keys of a Secret: a push by someone
	// who can write to the repository but holds no signing key is refused
	// (GitVerificationFailed) and the last good revision stays.
	// +optional
	Verify *GitVerification `json:"verify,omitempty"`

	// DependsOn names GitSyncs in the same namespace that must be Ready, at
	// their current generation, before this one syncs: CRDs and
	// controllers before what uses them, say. References to other
	// namespaces are not allowed, so one tenant cannot wait on, or learn
	// about, another's.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	DependsOn []LocalObjectReference `json:"dependsOn,omitempty"`

	// ServiceAccountName is the ServiceAccount, in the GitSync's namespace,
	// whose permissions the apply and prune use. Without it the GitSync
	// uses the controller's --default-service-account, or, when that is
	// not set, is refused: the controller never applies with its own
	// rights. Outside the controller's namespace the GitSync may only write
	// namespaced objects in its own namespace.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// TargetNamespace is the namespace of the namespaced objects that name
	// none. Defaults to the GitSync's namespace.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// Prune deletes the objects that an earlier sync applied and the
	// current revision no longer has. Defaults to true.
	// +optional
	// +kubebuilder:default=true
	Prune *bool `json:"prune,omitempty"`

	// AllowEmpty lets a revision that renders no objects replace one that
	// applied some, pruning everything (like allowEmpty in Argo CD's
	// automated sync policy). Without it such a revision is refused
	// (EmptyRevision): nothing is applied or pruned and the last good
	// revision stays, because an emptied path or a kustomization that
	// lists nothing is far more often a mistake than a wish to delete
	// everything. A revision that renders nothing while nothing is applied
	// yet is always accepted.
	// +optional
	AllowEmpty bool `json:"allowEmpty,omitempty"`

	// CorrectDrift, true by default, makes every full check apply the
	// revision, and an object the drift watch sees drift applied again,
	// which undoes hand edits. When false, these only compare the cluster
	// with the revision and report the objects that drifted in the
	// Drifted condition, changing nothing; a new revision or a new spec is
	// still applied.
	// +optional
	// +kubebuilder:default=true
	CorrectDrift *bool `json:"correctDrift,omitempty"`

	// Wait makes a sync succeed only once every object it applied is
	// ready, as kstatus judges it (a Deployment rolled out, a custom
	// resource Ready), within timeout. Without it a sync succeeds when the
	// API server has accepted every object.
	// +optional
	Wait bool `json:"wait,omitempty"`

	// Suspend stops syncing; what is applied stays as it is.
	// +optional
	// +kubebuilder:default=false
	Suspend bool `json:"suspend,omitempty"`
}

// CorrectDriftEnabled reports whether syncs undo hand edits.
func (s *GitSyncSpec) CorrectDriftEnabled() bool { return s.CorrectDrift == nil || *s.CorrectDrift }

// PruneEnabled reports whether objects removed from Git are deleted.
func (s *GitSyncSpec) PruneEnabled() bool { return s.Prune == nil || *s.Prune }

// GitRef selects a revision. At most one field is set.
// +kubebuilder:validation:XValidation:rule="(has(self.branch) ? 1 : 0) + (has(self.tag) ? 1 : 0) + (has(self.commit) ? 1 : 0) + (has(self.semver) ? 1 : 0) <= 1",message="set at most one of branch, tag, commit and semver"
type GitRef struct {
	// Branch to follow.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:Pattern=`^[^-\s~^:?*\[\\][^\s~^:?*\[\\]*$`
	Branch string `json:"branch,omitempty"`

	// Tag to apply.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:Pattern=`^[^-\s~^:?*\[\\][^\s~^:?*\[\\]*$`
	Tag string `json:"tag,omitempty"`

	// Commit to apply: a full 40-character SHA-1.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{40}$`
	Commit string `json:"commit,omitempty"`

	// SemVer is a range of versions, as Flux's GitRepository reads it
	// (github.com/Masterminds/semver: ">=1.0.0 <2.0.0", "~1.2", "^1"):
	// every sync lists the repository's tags and applies the newest whose
	// name, with an optional leading "v", is a version in the range. A
	// pre-release is in the range only if the range names one
	// (">=2.0.0-0"). A range that does not parse fails the sync with
	// InvalidSpec; no tag in the range fails it with GitFetchFailed, the
	// last good revision left applied.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	SemVer string `json:"semver,omitempty"`
}

// GitVerification says whose signatures a GitSync accepts.
type GitVerification struct {
	// SecretRef names a Secret in the GitSync's namespace whose
	// authorized_keys item lists the SSH public keys of the allowed
	// signers, one a line, as in an authorized_keys file.
	// +required
	SecretRef LocalObjectReference `json:"secretRef"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// Name of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// Reasons of a GitSync's Ready condition, in addition to ReasonSucceeded,
// ReasonProgressing (Ready=Unknown and Reconciling=True while a sync of a
// new spec, a requested sync or a new revision runs), ReasonInvalidSpec,
// ReasonPolicyDenied and ReasonApplyFailed. They are stable: alerts may
// match them.
const (
	// ReasonGitFetchFailed: the repository could not be fetched (network,
	// missing branch, tag or commit, no tag in the semver range,
	// repository too large).
	ReasonGitFetchFailed = "GitFetchFailed"
	// ReasonGitVerificationFailed: authentication, the SSH host key or TLS
	// certificate check, or the commit signature check (spec.verify)
	// failed.
	ReasonGitVerificationFailed = "GitVerificationFailed"
	// ReasonBuildFailed: the path is missing or kustomize refused or failed
	// to build it.
	ReasonBuildFailed = "BuildFailed"
	// ReasonEmptyRevision: the revision renders no objects while the
	// inventory holds some, and spec.allowEmpty is false; nothing was
	// applied or pruned.
	ReasonEmptyRevision = "EmptyRevision"
	// ReasonHealthCheckFailed: with spec.wait, an applied object failed or
	// was not ready within the timeout.
	ReasonHealthCheckFailed = "HealthCheckFailed"
	// ReasonPruneFailed: objects removed from Git could not be deleted.
	ReasonPruneFailed = "PruneFailed"
	// ReasonDependencyNotReady: a GitSync named in spec.dependsOn is not
	// Ready yet; the sync waits for it.
	ReasonDependencyNotReady = "DependencyNotReady"
	// ReasonSuspended: syncing is suspended (spec.suspend). Ready keeps
	// True after a successful last sync (kstatus: Current); otherwise it is
	// False with Stalled=True (kstatus: Failed), since nothing changes
	// until the GitSync is resumed.
	ReasonSuspended = "Suspended"
)

// ConditionDrifted on a GitSync with spec.correctDrift false is True when
// objects it applied no longer match the applied revision.
const ConditionDrifted = "Drifted"

// AnnotationReconcileRequestedAt on a GitSync asks for a sync now: any
// new value (a timestamp, by convention) starts one.
const AnnotationReconcileRequestedAt = "gitseal.dev/reconcile-requested-at"

// AnnotationPushReceivedAt on a GitSync is set by the push webhook when a
// push concerns it: any new value starts a sync now. Unlike
// AnnotationReconcileRequestedAt it asks for no full check, so a push
// sends only what changed in Git.
const AnnotationPushReceivedAt = "gitseal.dev/push-received-at"

// GitSyncStatus is the observed state of a GitSync.
type GitSyncStatus struct {
	// ObservedGeneration is the metadata.generation that the controller last
	// acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions are the latest observations of the GitSync's state: Ready,
	// Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastAppliedRevision is the revision last applied in full, as
	// "<branch or tag>@sha1:<commit>" (for a semver range, the tag it
	// chose) or "sha1:<commit>".
	// +optional
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`

	// LastAttemptedRevision is the revision of the last sync, whether or
	// not it succeeded.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// LastHandledReconcileAt is the value of the
	// gitseal.dev/reconcile-requested-at annotation that the last sync
	// acted on, so a client that asked for a sync knows when it ran.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`

	// Failures counts the syncs in a row that failed and are retried with
	// backoff (spec.retryInterval); any other outcome resets it.
	// +optional
	Failures int64 `json:"failures,omitempty"`

	// LastSyncTime is when the last successful sync finished.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`

	// LastFullCheckTime is when the last successful full check finished:
	// a sync that dry-ran and applied every object (spec.fullCheckInterval).
	// +optional
	LastFullCheckTime *metav1.Time `json:"lastFullCheckTime,omitempty"`

	// Inventory lists the objects the last successful sync applied: the
	// ones a later sync prunes when they leave the repository.
	// +optional
	Inventory *Inventory `json:"inventory,omitempty"`
}

// Inventory is the set of objects a GitSync manages. Read it with List,
// write it with Set.
type Inventory struct {
	// Objects lists the objects, one a line, sorted by ID:
	// "<id> <version>" or "<id> <version> <hash>" (see InventoryEntry).
	// It is one string rather than a list because the API server's cost
	// of every write of a GitSync, a status patch or a webhook's
	// annotation, grows with the number of values the object holds: with
	// 1,000 objects as a list, each write took 5 to 10 times as long.
	// +optional
	Objects string `json:"objects,omitempty"`
}

// InventoryEntry is one object a GitSync manages: a line of
// Inventory.Objects.
type InventoryEntry struct {
	// ID is "<namespace>_<name>_<group>_<kind>", the namespace empty for a
	// cluster-scoped object.
	ID string `json:"id"`
	// Version is the API version the object was applied with.
	Version string `json:"v"`
	// Hash is a short digest of the object as last applied in full, so
	// that a later sync sends it again only when it changed in Git. Empty
	// when the last apply of the object is not known to have succeeded.
	// +optional
	Hash string `json:"h,omitempty"`
}

// GitSync keeps the objects built from a path of a Git repository applied:
// the controller fetches the revision, builds it with kustomize in a
// sandbox, refuses plaintext Secrets, applies the result with server-side
// apply, prunes what was removed and corrects drift.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=gsync,categories=gitseal
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.lastAppliedRevision`
// +kubebuilder:printcolumn:name="Suspended",type=boolean,JSONPath=`.spec.suspend`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`,priority=1
type GitSync struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec says what to sync and how.
	// +required
	Spec GitSyncSpec `json:"spec"`

	// Status is written by the controller.
	// +optional
	Status GitSyncStatus `json:"status,omitempty"`
}

// GitSyncList is a list of GitSyncs.
// +kubebuilder:object:root=true
type GitSyncList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the GitSyncs in the list.
	Items []GitSync `json:"items"`
}
