// podmonitor-config: the Prometheus configuration that prometheus-operator v0.85.0 writes for a
// Prometheus resource and the PodMonitors it selects, made by the operator's own code, for a
// Prometheus run as a local process (no operator and no config-reloader run here).
//
// It follows the operator's sync of one Prometheus (pkg/prometheus/server/operator.go, sync and
// createOrUpdateConfigurationSecret) with the operator's own functions:
//   - NewConfigGenerator(logger, p) with no options (the operator adds WithEndpointSliceSupport
//     only for ServiceMonitors' discovery; PodMonitors use the pod role either way);
//   - NewResourceSelector(...).SelectPodMonitors: the Prometheus's podMonitorSelector and
//     podMonitorNamespaceSelector pick the PodMonitors, checkPodMonitor rejects invalid ones (the
//     operator skips those with a warning Event: here a line on stderr, and the rest go on);
//   - AddAPIServerConfigToStore, AddScrapeClassesToStore, then GenerateServerConfiguration;
//
// and then does what prometheus-config-reloader does before Prometheus reads the file: it
// substitutes `$(VAR)` references (thanos pkg/reloader/reloader.go expandEnv, the regexp
// `\$\(([a-zA-Z_0-9]+)\)`, an unset variable an error) with the reloader's environment as the
// operator sets it for the first pod of shard 0 (pkg/operator/config_reloader.go): SHARD=0
// (ShardEnvVar; the sharding relabelling keeps `$(SHARD);|.+;.+`, promcfg.go
// appendShardingRelabelingWithLabel) and POD_NAME, the pod's name (PodNameEnvVar, from
// metadata.name; the `prometheus_replica` external label): the StatefulSet's name
// (common.go ExpectedStatefulSetShardNames) with ordinal 0.
//
// Input on stdin, JSON: {"prometheus": <Prometheus>, "podMonitors": [<PodMonitor>...],
// "additionalScrapeConfigs": "<YAML>"}. The namespaces the podMonitorNamespaceSelector chooses
// from are those of the given PodMonitors, without labels (an empty selector `{}` takes them all).
// Output on stdout: prometheus.yml. discover/ (a module of its own) runs the Kubernetes discovery
// of such a configuration for a Prometheus built without it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus-operator/prometheus-operator/pkg/assets"
	"github.com/prometheus-operator/prometheus-operator/pkg/operator"
	prompkg "github.com/prometheus-operator/prometheus-operator/pkg/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
)

type input struct {
	Prometheus              monitoringv1.Prometheus   `json:"prometheus"`
	PodMonitors             []monitoringv1.PodMonitor `json:"podMonitors"`
	AdditionalScrapeConfigs string                    `json:"additionalScrapeConfigs"`
}

// The config-reloader's substitution (thanos pkg/reloader/reloader.go envRe and expandEnv).
var envRe = regexp.MustCompile(`\$\(([a-zA-Z_0-9]+)\)`)

func expandEnv(b []byte, env map[string]string) ([]byte, error) {
	var err error
	out := envRe.ReplaceAllFunc(b, func(n []byte) []byte {
		if err != nil {
			return nil
		}
		name := string(n[2 : len(n)-1])
		v, ok := env[name]
		if !ok {
			err = fmt.Errorf("found reference to unset environment variable %q", name)
			return nil
		}
		return []byte(v)
	})
	return out, err
}

// namespaceInformer holds the namespaces the selector may choose from; nothing runs it: the
// operator only reads its store (pkg/operator/resource_reconciler.go ListMatchingNamespaces).
func namespaceInformer(names []string) (cache.SharedIndexInformer, error) {
	inf := cache.NewSharedIndexInformer(&cache.ListWatch{}, &v1.Namespace{}, 0, cache.Indexers{})
	for _, n := range names {
		if err := inf.GetStore().Add(&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}); err != nil {
			return nil, err
		}
	}
	return inf, nil
}

func run(in io.Reader, out, errOut io.Writer) error {
	var req input
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		return fmt.Errorf("reading the input: %w", err)
	}
	ctx := context.Background()
	p := &req.Prometheus
	logger := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))

	seen := map[string]bool{}
	var names []string
	for _, pm := range req.PodMonitors {
		if !seen[pm.Namespace] {
			seen[pm.Namespace] = true
			names = append(names, pm.Namespace)
		}
	}
	nsInf, err := namespaceInformer(names)
	if err != nil {
		return err
	}

	// No Kubernetes clients: secrets and config maps cannot be read (the local inputs name files).
	store := assets.NewStoreBuilder(nil, nil)
	cg, err := prompkg.NewConfigGenerator(logger, p)
	if err != nil {
		return err
	}
	recorder := record.NewFakeRecorder(100)
	rs, err := prompkg.NewResourceSelector(logger, p, store, nsInf, operator.NewMetrics(prometheus.NewRegistry()), recorder)
	if err != nil {
		return err
	}
	list := func(namespace string, selector labels.Selector, appendFn cache.AppendFunc) error {
		for i := range req.PodMonitors {
			pm := &req.PodMonitors[i]
			if pm.Namespace == namespace && selector.Matches(labels.Set(pm.Labels)) {
				appendFn(pm)
			}
		}
		return nil
	}
	pmons, err := rs.SelectPodMonitors(ctx, list)
	if err != nil {
		return fmt.Errorf("selecting PodMonitors failed: %w", err)
	}
	for len(recorder.Events) > 0 {
		fmt.Fprintf(errOut, "event: %s\n", <-recorder.Events)
	}
	if err := prompkg.AddAPIServerConfigToStore(ctx, store, p.Namespace, p.Spec.APIServerConfig); err != nil {
		return err
	}
	if err := prompkg.AddScrapeClassesToStore(ctx, store, p.Namespace, p.Spec.ScrapeClasses); err != nil {
		return fmt.Errorf("failed to process scrape classes: %w", err)
	}
	var additional []byte
	if req.AdditionalScrapeConfigs != "" {
		additional = []byte(req.AdditionalScrapeConfigs)
	}
	conf, err := cg.GenerateServerConfiguration(p, nil, pmons.ValidResources(), nil, nil, store, additional, nil, nil, nil)
	if err != nil {
		return fmt.Errorf("generating config failed: %w", err)
	}
	env := map[string]string{
		operator.ShardEnvVar:   "0",
		operator.PodNameEnvVar: prompkg.ExpectedStatefulSetShardNames(p)[0] + "-0",
	}
	conf, err = expandEnv(conf, env)
	if err != nil {
		return err
	}
	_, err = out.Write(conf)
	return err
}

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: podmonitor-config < input.json > prometheus.yml (see the header of main.go)")
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "podmonitor-config: %v\n", err)
		os.Exit(1)
	}
}
