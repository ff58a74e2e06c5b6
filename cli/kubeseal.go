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

package cli

import (
	"errors"

	"github.com/spf13/pflag"
)

// kubesealFlags are kubeseal's flags whose meaning does not carry over to
// gitseal. They are hidden and refused with the gitseal command to use, so
// that a kubeseal habit never ends in a bare "unknown flag".
type kubesealFlags struct {
	FetchCert          bool
	ReEncrypt          bool
	RecoveryUnseal     bool
	RecoveryPrivateKey []string
	Validate           bool
	SealedSecretFile   string
}

func (k *kubesealFlags) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&k.FetchCert, "fetch-cert", false, "kubeseal's; use gitseal keys fetch")
	f.BoolVar(&k.ReEncrypt, "re-encrypt", false, "kubeseal's; use gitseal reseal")
	f.BoolVar(&k.RecoveryUnseal, "recovery-unseal", false, "kubeseal's; use gitseal unseal --identity FILE")
	f.StringSliceVar(&k.RecoveryPrivateKey, "recovery-private-key", nil, "kubeseal's; use gitseal unseal --identity FILE")
	f.BoolVar(&k.Validate, "validate", false, "kubeseal's; use gitseal validate")
	f.StringVar(&k.SealedSecretFile, "sealed-secret-file", "", "kubeseal's; redirect standard output, or seal in place with -w")
	for _, name := range []string{"fetch-cert", "re-encrypt", "recovery-unseal", "recovery-private-key", "validate", "sealed-secret-file"} {
		_ = f.MarkHidden(name)
	}
}

// check refuses the kubeseal flags that were given, naming the gitseal
// command to use instead.
func (k *kubesealFlags) check() error {
	switch {
	case k.FetchCert:
		return withHint(errors.New("--fetch-cert is kubeseal's"), "gitseal keys fetch prints the cluster's public keys; --output-file FILE saves them")
	case k.ReEncrypt:
		return withHint(errors.New("--re-encrypt is kubeseal's"), "gitseal reseal FILE... re-seals SealedSecret files to the current key, in place")
	case k.RecoveryUnseal || len(k.RecoveryPrivateKey) > 0:
		return withHint(errors.New("--recovery-unseal and --recovery-private-key are kubeseal's"),
			"gitseal unseal --identity FILE opens SealedSecrets with the keys of a gitseal keys backup file; Bitnami's keys are for gitseal migrate bitnami --bitnami-key FILE")
	case k.Validate:
		return withHint(errors.New("--validate is kubeseal's"), "gitseal validate FILE... asks the controller whether the SealedSecrets open")
	case k.SealedSecretFile != "":
		return withHint(errors.New("--sealed-secret-file is kubeseal's"),
			"redirect standard output (gitseal seal secret.yaml > "+k.SealedSecretFile+"), or seal files in place with -w/--write; gitseal's -w is not kubeseal's -w FILE")
	}
	return nil
}
