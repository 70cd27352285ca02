// kubernetes-discover CONFIG DIR: Kubernetes service discovery for a Prometheus built without it.
// Debian's Prometheus 2.42 (the local one) is: its config loader refuses `kubernetes_sd_configs`
// ("field kubernetes_sd_configs not found in type config.ScrapeConfig"). So this runs Prometheus's
// own Kubernetes discovery (github.com/prometheus/prometheus/discovery/kubernetes and its discovery
// Manager, v0.305.0: Prometheus v3.5.0, the version prometheus-operator v0.85.0 deploys by default,
// pkg/operator/defaults.go DefaultPrometheusVersion) on each scrape config's kubernetes_sd_configs
// as the operator generated them, and hands the target groups to Prometheus through file
// discovery, meta labels and all: DIR/<n>.json per scrape config, and DIR/prometheus.yml, CONFIG
// with each kubernetes_sd_configs replaced by file_sd_configs on its file. The relabel_configs stay
// the operator's, and Prometheus applies them. Runs until SIGTERM.
//
// A module of its own: Prometheus v0.305.0's discovery builds with client-go v0.32 (its go.mod),
// while prometheus-operator v0.85.0 needs v0.33, whose cache.DefaultWatchErrorHandler takes a context.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/kubernetes"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"gopkg.in/yaml.v2"
)

// fileTarget is one entry of a file_sd file.
type fileTarget struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// fileTargets flattens target groups as Prometheus builds targets from them (scrape/target.go
// targetsFromGroup): a target's own labels, then the group's where the target has none.
func fileTargets(groups []*targetgroup.Group) []fileTarget {
	out := []fileTarget{}
	for _, g := range groups {
		if g == nil {
			continue
		}
		for _, t := range g.Targets {
			labels := map[string]string{}
			for k, v := range g.Labels {
				labels[string(k)] = string(v)
			}
			for k, v := range t {
				labels[string(k)] = string(v)
			}
			addr := labels[model.AddressLabel]
			delete(labels, model.AddressLabel)
			out = append(out, fileTarget{Targets: []string{addr}, Labels: labels})
		}
	}
	return out
}

func writeAtomically(path string, data []byte) error {
	if err := os.WriteFile(path+".tmp", data, 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// rewrite returns the configuration with each scrape config's kubernetes_sd_configs replaced by
// file_sd_configs on DIR/<index>.json, and each such scrape config's discovery configs by job name.
func rewrite(config []byte, dir string) ([]byte, map[string]discovery.Configs, map[string]string, error) {
	var doc yaml.MapSlice
	if err := yaml.Unmarshal(config, &doc); err != nil {
		return nil, nil, nil, err
	}
	configs := map[string]discovery.Configs{}
	files := map[string]string{}
	for i, item := range doc {
		if item.Key != "scrape_configs" {
			continue
		}
		scrapeConfigs, _ := item.Value.([]interface{})
		for n, sc := range scrapeConfigs {
			job, _ := sc.(yaml.MapSlice)
			var name string
			for _, kv := range job {
				if kv.Key == "job_name" {
					name, _ = kv.Value.(string)
				}
			}
			for k, kv := range job {
				if kv.Key != "kubernetes_sd_configs" {
					continue
				}
				raw, err := yaml.Marshal(kv.Value)
				if err != nil {
					return nil, nil, nil, err
				}
				var sds []*kubernetes.SDConfig
				if err := yaml.UnmarshalStrict(raw, &sds); err != nil {
					return nil, nil, nil, fmt.Errorf("%s: kubernetes_sd_configs: %w", name, err)
				}
				for _, sd := range sds {
					configs[name] = append(configs[name], sd)
				}
				file := filepath.Join(dir, strconv.Itoa(n)+".json")
				files[name] = file
				job[k] = yaml.MapItem{Key: "file_sd_configs", Value: []yaml.MapSlice{{
					{Key: "files", Value: []string{file}},
					{Key: "refresh_interval", Value: "1s"},
				}}}
			}
			scrapeConfigs[n] = job
		}
		doc[i].Value = scrapeConfigs
	}
	out, err := yaml.Marshal(doc)
	return out, configs, files, err
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: kubernetes-discover CONFIG DIR (see the header of main.go)")
		os.Exit(2)
	}
	if err := discover(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "kubernetes-discover: %v\n", err)
		os.Exit(1)
	}
}

func discover(configFile, dir string) error {
	config, err := os.ReadFile(configFile)
	if err != nil {
		return err
	}
	rewritten, configs, files, err := rewrite(config, dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := writeAtomically(f, []byte("[]")); err != nil {
			return err
		}
	}
	if err := writeAtomically(filepath.Join(dir, "prometheus.yml"), rewritten); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	reg := prometheus.NewRegistry()
	sdMetrics, err := discovery.CreateAndRegisterSDMetrics(reg)
	if err != nil {
		return err
	}
	// Prometheus's own manager updates its scrape pools every 5 s; here every second, so a test's
	// new pod is scraped sooner (a delivery delay, no other difference).
	m := discovery.NewManager(ctx, logger, reg, sdMetrics, discovery.Updatert(time.Second))
	if m == nil {
		return fmt.Errorf("cannot start the discovery manager")
	}
	if err := m.ApplyConfig(configs); err != nil {
		return err
	}
	go func() { _ = m.Run() }()
	logger.Info("discovering", "jobs", len(configs), "dir", dir)
	for {
		select {
		case <-ctx.Done():
			return nil
		case sets := <-m.SyncCh():
			for job, groups := range sets {
				file, ok := files[job]
				if !ok {
					continue
				}
				data, err := json.Marshal(fileTargets(groups))
				if err != nil {
					return err
				}
				if err := writeAtomically(file, data); err != nil {
					return err
				}
			}
		}
	}
}
