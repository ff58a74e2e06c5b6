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
	"k8s.io/apimachinery/pkg/runtime"
)

// SealedValue is one value sealed in the gitseal format (docs/format.md).
// Format 2, which gitseal writes: "gs2:", for any data key but the first
// its index in spec.dataKeys and ":", then the base64 ciphertext. Format 1,
// still read: "gs1:", the IDs of the keys it was sealed to, ":", and a
// base64 age file.
// +kubebuilder:validation:MaxLength=1500000
// +kubebuilder:validation:Pattern=`^(gs1:[0-9a-f]{16}(,[0-9a-f]{16}){0,15}:|gs2:([1-9][0-9]?:)?)[A-Za-z0-9+/]+={0,2}$`
type SealedValue string

// SealedSecretSpec is the desired state of a SealedSecret: the sealed values
// and the shape of the Secret the controller creates from them.
type SealedSecretSpec struct {
	// EncryptedData maps each key of the Secret to its sealed value. A value
	// opens only with the cluster's private key, and only under the item key,
	// namespace and (for strict scope) name it was sealed for.
	// +required
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:MaxProperties=1000
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 253 && k.matches('^[-._a-zA-Z0-9]+$') && k != '.' && k != '..')",message="item keys must be valid Secret data keys: letters, digits, '-', '_' and '.', at most 253 characters"
	EncryptedData map[string]SealedValue `json:"encryptedData"`

	// DataKeys are the wrapped data keys of the format-2 values in
	// EncryptedData (docs/format.md): a value "gs2:<n>:…" is encrypted
	// under DataKeys[n], and "gs2:…" under DataKeys[0]. Each is "gs2k:", the IDs of the keys it is wrapped
	// for, ":", and base64 holding the object's binding and one age
	// recipient stanza per key. Re-sealing to a new key changes only this
	// list, never a value. Format-1 values need none.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=26000
	// +kubebuilder:validation:items:Pattern=`^gs2k:[0-9a-f]{16}(,[0-9a-f]{16}){0,15}:[A-Za-z0-9+/]+={0,2}$`
	DataKeys []string `json:"dataKeys,omitempty"`

	// Template describes the Secret the controller creates: its labels,
	// annotations, type and immutability. It never holds data. When
	// omitted, the Secret is an Opaque Secret with no extra metadata.
	// +optional
	Template *SecretTemplate `json:"template,omitempty"`
}

// SecretTemplate is the part of the unsealed Secret that is not sealed.
type SecretTemplate struct {
	// Metadata holds the labels and annotations copied onto the Secret.
	// +optional
	Metadata *SecretTemplateMetadata `json:"metadata,omitempty"`

	// Type is the type of the Secret, for example Opaque or
	// kubernetes.io/dockerconfigjson. Empty means Opaque. The controller
	// refuses kubernetes.io/service-account-token unless it runs with
	// --allow-service-account-token-secrets.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9/]+$`
	Type string `json:"type,omitempty"`

	// Immutable, when true, creates the Secret as immutable.
	// +optional
	Immutable *bool `json:"immutable,omitempty"`
}

// SecretTemplateMetadata is the metadata copied onto the unsealed Secret.
// The Secret always takes the SealedSecret's namespace and name and is owned
// by it, so the fields that would change that are refused.
// +kubebuilder:validation:XValidation:rule="!has(self.name)",message="template.metadata.name is not allowed: the Secret is named after the SealedSecret"
// +kubebuilder:validation:XValidation:rule="!has(self.__namespace__)",message="template.metadata.namespace is not allowed: the Secret is created in the SealedSecret's namespace"
// +kubebuilder:validation:XValidation:rule="!has(self.ownerReferences)",message="template.metadata.ownerReferences is not allowed: the SealedSecret owns its Secret"
// +kubebuilder:validation:XValidation:rule="!has(self.finalizers)",message="template.metadata.finalizers is not allowed"
type SecretTemplateMetadata struct {
	// Labels are added to the Secret's labels.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// Annotations are added to the Secret's annotations.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// Name is not allowed; it exists only to refuse it with a clear message.
	// +optional
	Name string `json:"name,omitempty"`

	// Namespace is not allowed; it exists only to refuse it with a clear
	// message.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// OwnerReferences are not allowed; the field exists only to refuse it
	// with a clear message.
	// +optional
	OwnerReferences []runtime.RawExtension `json:"ownerReferences,omitempty"`

	// Finalizers are not allowed; the field exists only to refuse it with a
	// clear message.
	// +optional
	// +kubebuilder:validation:MaxItems=0
	Finalizers []string `json:"finalizers,omitempty"`
}

// Condition types, as kstatus, Flux and Argo CD health checks expect them.
const (
	// ConditionReady is True when the Secret matches the spec.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the controller is working on a
	// new generation.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when the controller cannot make progress
	// until the spec, the keys or the cluster change.
	ConditionStalled = "Stalled"
)

// Reasons of the Ready condition. They are stable: alerts may match them.
const (
	// ReasonSucceeded: the Secret was written from the sealed values.
	ReasonSucceeded = "Succeeded"
	// ReasonProgressing: a new generation is being reconciled.
	ReasonProgressing = "Progressing"
	// ReasonInvalidSpec: the spec is invalid (bad value syntax, too large).
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonDecryptionFailed: a value is malformed, tampered with or truncated.
	ReasonDecryptionFailed = "DecryptionFailed"
	// ReasonNoMatchingKey: no key in the cluster opens a value.
	ReasonNoMatchingKey = "NoMatchingKey"
	// ReasonScopeMismatch: a value is bound to another namespace, name or
	// item key.
	ReasonScopeMismatch = "ScopeMismatch"
	// ReasonPolicyDenied: the controller's policy refuses the Secret, for
	// example a service account token without the flag that allows it.
	ReasonPolicyDenied = "PolicyDenied"
	// ReasonSecretNotManaged: a Secret of the same name exists and gitseal
	// does not own it. Annotate it gitseal.dev/managed: "true" to adopt it.
	ReasonSecretNotManaged = "SecretNotManaged"
	// ReasonApplyFailed: the API server refused to write the Secret.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonKeyUnavailable: the controller holds no usable key yet.
	ReasonKeyUnavailable = "KeyUnavailable"
)

// AnnotationManaged on an existing Secret lets a SealedSecret adopt it.
const AnnotationManaged = "gitseal.dev/managed"

// SealedSecretStatus is the observed state of a SealedSecret.
type SealedSecretStatus struct {
	// ObservedGeneration is the metadata.generation that the controller last
	// acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions are the latest observations of the SealedSecret's state:
	// Ready, Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// KeyIDs are the IDs of the keys that opened the values, sorted.
	// +optional
	// +listType=set
	KeyIDs []string `json:"keyIDs,omitempty"`

	// RetiredKeyIDs are those of KeyIDs that are retired: re-seal the
	// object (gitseal reseal --only-retired) to move it off them.
	// +optional
	// +listType=set
	RetiredKeyIDs []string `json:"retiredKeyIDs,omitempty"`
}

// SealedSecret holds values sealed to a cluster's public key. The controller
// in that cluster opens them and writes a Secret of the same namespace and
// name, owned by the SealedSecret.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=gss,categories=gitseal
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
type SealedSecret struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec holds the sealed values and the Secret template.
	// +required
	Spec SealedSecretSpec `json:"spec"`

	// Status is written by the controller.
	// +optional
	Status SealedSecretStatus `json:"status,omitempty"`
}

// SealedSecretList is a list of SealedSecrets.
// +kubebuilder:object:root=true
type SealedSecretList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the SealedSecrets in the list.
	Items []SealedSecret `json:"items"`
}
