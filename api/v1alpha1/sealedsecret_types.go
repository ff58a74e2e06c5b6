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

// SealedSecretSpec is the desired state of a SealedSecret: the sealed values
// and the shape of the Secret the controller creates from them.
type SealedSecretSpec struct {
	// EncryptedData maps each key of the Secret to its sealed value. A value
	// can be opened only by the cluster's private key, and only as this key
	// of a Secret with this SealedSecret's namespace and name.
	// +required
	// +kubebuilder:validation:MinProperties=1
	EncryptedData map[string]string `json:"encryptedData"`

	// Template describes the Secret the controller creates: its labels,
	// annotations, type and immutability. When omitted, the Secret is an
	// Opaque Secret with no extra metadata.
	// +optional
	Template *SecretTemplate `json:"template,omitempty"`
}

// SecretTemplate is the part of the unsealed Secret that is not sealed.
type SecretTemplate struct {
	// Metadata holds the labels and annotations copied onto the Secret.
	// +optional
	Metadata SecretTemplateMetadata `json:"metadata,omitempty"`

	// Type is the type of the Secret, for example Opaque or
	// kubernetes.io/dockerconfigjson. Empty means Opaque.
	// +optional
	Type string `json:"type,omitempty"`

	// Immutable, when true, creates the Secret as immutable.
	// +optional
	Immutable *bool `json:"immutable,omitempty"`
}

// SecretTemplateMetadata is the metadata copied onto the unsealed Secret.
type SecretTemplateMetadata struct {
	// Labels are added to the Secret's labels.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// Annotations are added to the Secret's annotations.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// SealedSecretStatus is the observed state of a SealedSecret.
type SealedSecretStatus struct {
	// ObservedGeneration is the metadata.generation that the controller last
	// acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions are the latest observations of the SealedSecret's state.
	// The Ready condition says whether the Secret matches the spec.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// SealedSecret holds values sealed to a cluster's public key. The controller
// in that cluster opens them and writes a Secret of the same namespace and
// name.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=gss
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
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
