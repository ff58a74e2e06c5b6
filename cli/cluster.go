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
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gitseal/gitseal/internal/httpapi"
	"github.com/gitseal/gitseal/internal/version"
)

// ClusterOptions say how to reach the cluster and its gitseal controller.
// They are the root command's persistent flags, shared by every command.
//
// The CLI deliberately avoids client-go's typed clientset: its scheme
// registration alone costs about 5 ms at start-up, more than sealing a
// Secret. The dynamic and metadata clients are enough.
type ClusterOptions struct {
	// Kubeconfig is an explicit kubeconfig file; empty means client-go's
	// loading rules (KUBECONFIG, then ~/.kube/config).
	Kubeconfig string
	// Context is the kubeconfig context; empty means the current one.
	Context string
	// ControllerNamespace and ControllerName locate the controller's
	// namespace (where its keys live) and its Service.
	ControllerNamespace string
	ControllerName      string
	// ControllerURL, when set, reaches the controller's HTTP API directly
	// instead of through the API server's service proxy.
	ControllerURL string
	// RequestTimeout bounds each request to the API server or controller.
	RequestTimeout time.Duration
	// Overrides are kubectl's connection flags (--server, --token, --as,
	// --user, --cluster, …), which override the kubeconfig as in kubectl.
	// Their CurrentContext is Context.
	Overrides clientcmd.ConfigOverrides

	clientConfig clientcmd.ClientConfig
	restConfig   *rest.Config
}

// addFlags binds the options to the root command's persistent flags.
func (o *ClusterOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&o.Context, "context", "", "kubeconfig context to use (default: the current context)")
	fs.StringVar(&o.ControllerNamespace, "controller-namespace", httpapi.DefaultNamespace, "namespace of the gitseal controller and its keys")
	fs.StringVar(&o.ControllerName, "controller-name", httpapi.DefaultServiceName, "name of the gitseal controller's Service")
	fs.StringVar(&o.ControllerURL, "controller-url", "", "reach the controller's HTTP API at this URL instead of through the API server's service proxy")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", 30*time.Second, "timeout of each request to the cluster")
	clientcmd.BindOverrideFlags(&o.Overrides, fs, connectionFlags())
}

// connectionFlags are kubectl's flags that override the kubeconfig, which
// kubeseal takes too; --context and --request-timeout are gitseal's own,
// and --namespace is seal's and sync's, for the Secrets and GitSyncs they
// name. kubectl's flags for basic auth and a proxy are left out, as
// kubectl leaves them out.
func connectionFlags() clientcmd.ConfigOverrideFlags {
	flag := func(name, usage string) clientcmd.FlagInfo {
		return clientcmd.FlagInfo{LongName: name, Description: usage}
	}
	insecure := flag(clientcmd.FlagInsecure, "do not check the API server's certificate: the connection is not secure")
	insecure.Default = "false"
	return clientcmd.ConfigOverrideFlags{
		AuthOverrideFlags: clientcmd.AuthOverrideFlags{
			ClientCertificate: flag(clientcmd.FlagCertFile, "path to a client certificate file for TLS"),
			ClientKey:         flag(clientcmd.FlagKeyFile, "path to a client key file for TLS"),
			Token:             flag(clientcmd.FlagBearerToken, "bearer token for authentication to the API server"),
			Impersonate:       flag(clientcmd.FlagImpersonate, "user to impersonate, as kubectl --as"),
			ImpersonateUID:    flag(clientcmd.FlagImpersonateUID, "UID to impersonate"),
			ImpersonateGroups: flag(clientcmd.FlagImpersonateGroup, "group to impersonate; repeatable"),
		},
		ClusterOverrideFlags: clientcmd.ClusterOverrideFlags{
			APIServer:             flag(clientcmd.FlagAPIServer, "address and port of the Kubernetes API server"),
			CertificateAuthority:  flag(clientcmd.FlagCAFile, "path to a cert file for the certificate authority"),
			InsecureSkipTLSVerify: insecure,
			TLSServerName:         flag(clientcmd.FlagTLSServerName, "server name to check the API server's certificate against (default: the host's)"),
			DisableCompression:    flag(clientcmd.FlagDisableCompression, "ask the API server for uncompressed responses"),
		},
		ContextOverrideFlags: clientcmd.ContextOverrideFlags{
			ClusterName:  flag(clientcmd.FlagClusterName, "kubeconfig cluster to use"),
			AuthInfoName: flag(clientcmd.FlagAuthInfoName, "kubeconfig user to use"),
		},
	}
}

// registerCompletions completes --context, --cluster and --user from the
// kubeconfig.
func (o *ClusterOptions) registerCompletions(cmd *cobra.Command) {
	complete := func(names func(*clientcmdapi.Config) []string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			raw, err := o.loader().RawConfig()
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return names(&raw), cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = cmd.RegisterFlagCompletionFunc("context", complete(func(c *clientcmdapi.Config) []string { return slices.Sorted(maps.Keys(c.Contexts)) }))
	_ = cmd.RegisterFlagCompletionFunc(clientcmd.FlagClusterName, complete(func(c *clientcmdapi.Config) []string { return slices.Sorted(maps.Keys(c.Clusters)) }))
	_ = cmd.RegisterFlagCompletionFunc(clientcmd.FlagAuthInfoName, complete(func(c *clientcmdapi.Config) []string { return slices.Sorted(maps.Keys(c.AuthInfos)) }))
}

func (o *ClusterOptions) loader() clientcmd.ClientConfig {
	if o.clientConfig == nil {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = o.Kubeconfig
		overrides := o.Overrides
		overrides.CurrentContext = o.Context
		o.clientConfig = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &overrides)
	}
	return o.clientConfig
}

// configured reports whether there is a cluster to ask: a kubeconfig (or
// connection flags, or the in-cluster configuration) that is not empty, or
// --controller-url. A kubeconfig that cannot be read counts, so that the
// error is said rather than taken for "no cluster".
func (o *ClusterOptions) configured() bool {
	if o.ControllerURL != "" {
		return true
	}
	_, err := o.loader().ClientConfig()
	return !clientcmd.IsEmptyConfig(err)
}

// RESTConfig returns the client configuration for the selected context.
func (o *ClusterOptions) RESTConfig() (*rest.Config, error) {
	if o.restConfig != nil {
		return o.restConfig, nil
	}
	cfg, err := o.loader().ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, withHint(noClusterError(), "point --kubeconfig or KUBECONFIG at the cluster's kubeconfig (or pass --server and --token), or seal offline with --recipient, --recipients-file or a .gitseal.yaml")
		}
		return nil, withHint(fmt.Errorf("load kubeconfig: %w", err), "check --kubeconfig, KUBECONFIG, --context, --cluster and --user")
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "gitseal/" + version.Version
	cfg.Timeout = o.RequestTimeout
	cfg.QPS, cfg.Burst = 50, 100
	o.restConfig = cfg
	return cfg, nil
}

// ContextName returns the name of the selected kubeconfig context.
func (o *ClusterOptions) ContextName() (string, error) {
	if o.Context != "" {
		return o.Context, nil
	}
	raw, err := o.loader().RawConfig()
	if err != nil {
		return "", fmt.Errorf("load kubeconfig: %w", err)
	}
	if raw.CurrentContext == "" {
		return "", withHint(errors.New(noClusterMsg), "select a context with --context or `kubectl config use-context`")
	}
	return raw.CurrentContext, nil
}

// ContextNamespace returns the namespace of the selected context, or
// "default", as kubectl does.
func (o *ClusterOptions) ContextNamespace() (string, error) {
	ns, _, err := o.loader().Namespace()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return "", withHint(errors.New(noClusterMsg), "set metadata.namespace in the Secret or pass --namespace")
		}
		return "", fmt.Errorf("load kubeconfig: %w", err)
	}
	return ns, nil
}

// Controller returns a client for the controller's HTTP API: directly at
// --controller-url if set, else through the API server's service proxy.
func (o *ClusterOptions) Controller() (*httpapi.Client, error) {
	if o.ControllerURL != "" {
		return httpapi.New(o.ControllerURL, &http.Client{Timeout: o.RequestTimeout})
	}
	cfg, err := o.RESTConfig()
	if err != nil {
		return nil, err
	}
	return httpapi.NewServiceProxy(cfg, o.ControllerNamespace, o.ControllerName, httpapi.DefaultServicePort)
}

// kube returns a client for the objects the CLI reads and writes.
func (o *ClusterOptions) kube() (*kubeClient, error) {
	cfg, err := o.RESTConfig()
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &kubeClient{dyn: dyn, meta: meta}, nil
}

// noClusterMsg starts the error when no kubeconfig is found.
const noClusterMsg = "no Kubernetes cluster configured"

// noClusterError says that no cluster is configured, naming the kubeconfig
// files that were looked for and are missing: a typo in KUBECONFIG should
// not read as "no cluster".
func noClusterError() error {
	var missing []string
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		for _, p := range filepath.SplitList(env) {
			if _, err := os.Stat(p); err != nil && p != "" { //nolint:gosec // G703: the user's own KUBECONFIG, only checked for existence
				missing = append(missing, p)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%s: the kubeconfig file %s in KUBECONFIG does not exist", noClusterMsg, strings.Join(missing, ", "))
		}
		return errors.New(noClusterMsg)
	}
	if _, err := os.Stat(clientcmd.RecommendedHomeFile); err != nil {
		return fmt.Errorf("%s: no kubeconfig at %s and KUBECONFIG is not set", noClusterMsg, clientcmd.RecommendedHomeFile)
	}
	return errors.New(noClusterMsg)
}

// unreachable returns an error that says the API server cannot be reached,
// with what to check, if err is a failure to connect; else nil. Such an
// error is not about a namespace, a Service or RBAC, and must not be
// reported as one.
func (o *ClusterOptions) unreachable(err error) error {
	if !isUnreachable(err) {
		return nil
	}
	host := "the API server"
	if cfg, cerr := o.RESTConfig(); cerr == nil {
		host = "the API server at " + cfg.Host
	}
	hint := "check that the cluster of the current context is up and reachable from here (--context, --kubeconfig)"
	if o.Overrides.ClusterInfo.Server != "" {
		hint = "check --server, and that the API server is up and reachable from here"
	} else if name, cerr := o.ContextName(); cerr == nil {
		hint = fmt.Sprintf("check that the cluster of context %s is up and reachable from here (--context, --kubeconfig)", name)
	}
	return withHint(fmt.Errorf("%s is unreachable: %w", host, rootCause(err)), hint)
}

// isUnreachable reports whether err is a failure to reach a server at all:
// refused, unresolvable, unroutable, or timed out while connecting.
func isUnreachable(err error) bool {
	if utilnet.IsConnectionRefused(err) {
		return true
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return true
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "dial" {
		return true
	}
	return false
}

// rootCause is the innermost error, e.g. "connection refused".
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

func configMapsResource() schema.GroupVersionResource {
	return schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
}

func secretsResource() schema.GroupVersionResource {
	return schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
}

// kubeClient reads and writes ConfigMaps and Secrets as typed objects over
// the dynamic and metadata clients.
type kubeClient struct {
	dyn  dynamic.Interface
	meta metadata.Interface
}

func (k *kubeClient) getConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	u, err := k.dyn.Resource(configMapsResource()).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	var cm corev1.ConfigMap
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &cm); err != nil {
		return nil, fmt.Errorf("configmap %s/%s: %w", ns, name, err)
	}
	return &cm, nil
}

// listSecretMetadata lists only the metadata of the Secrets matching
// selector: their data never crosses the wire.
func (k *kubeClient) listSecretMetadata(ctx context.Context, ns, selector string) ([]metav1.PartialObjectMetadata, error) {
	list, err := k.meta.Resource(secretsResource()).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// listSecrets lists the Secrets matching selector, data included.
func (k *kubeClient) listSecrets(ctx context.Context, ns, selector string) ([]corev1.Secret, error) {
	list, err := k.dyn.Resource(secretsResource()).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	out := make([]corev1.Secret, len(list.Items))
	for i := range list.Items {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(list.Items[i].Object, &out[i]); err != nil {
			return nil, fmt.Errorf("secret %s/%s: %w", ns, list.Items[i].GetName(), err)
		}
	}
	return out, nil
}

// createSecret creates s, recording fieldManager as the writer of its
// fields.
func (k *kubeClient) createSecret(ctx context.Context, s *corev1.Secret, fieldManager string) error {
	s.APIVersion, s.Kind = "v1", "Secret"
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
	if err != nil {
		return fmt.Errorf("secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	_, err = k.dyn.Resource(secretsResource()).Namespace(s.Namespace).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{FieldManager: fieldManager})
	return err
}

// mergePatch applies a JSON merge patch to an object of the resource.
func (k *kubeClient) mergePatch(ctx context.Context, res schema.GroupVersionResource, ns, name string, patch []byte) error {
	_, err := k.dyn.Resource(res).Namespace(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// apiHint returns what to do about a failed API request, or "".
func apiHint(err error, what string) string {
	switch {
	case isUnreachable(err):
		return "the API server is unreachable: check that the cluster is up and reachable from here (--context, --kubeconfig)"
	case apierrors.IsForbidden(err):
		return "your credentials may not " + what + "; ask a cluster admin for the RBAC, or use another --context"
	case apierrors.IsUnauthorized(err):
		return "your credentials were refused; log in to the cluster again"
	}
	return ""
}
