// A model of the promql CLI Litmus' promProbes run (chaosnative/promql-cli 3.0.0-beta6, the module
// github.com/nalbury/promql-cli), for machines where its source cannot be obtained: the Go module
// proxy refuses it (403) and only a git clone builds the real one (local/promql.sh). It follows that
// source rule by rule for the one command line litmus-go builds,
//
//	promql --host <endpoint> "<query>" --output csv   (litmus-go 3.28.0 pkg/probe/promProbe.go L190-199)
//
// and uses the same libraries at the same versions (its go.mod):
//   - cmd/root.go: cobra, `promql [query_string]` with cobra.ExactArgs(1); flags --host (default
//     http://0.0.0.0:9090), --output, --time (now), --timeout (10 s); errors go to stderr through
//     log.Fatalln (exit 1);
//   - pkg/promql/promql.go InstantQuery: client_golang's v1 API Query at the time, with the
//     timeout; "error querying prometheus: %v"; a result that is not a vector is
//     "did not receive an instant vector result";
//   - pkg/writer/writer.go InstantResult.Csv and WriteInstant: encoding/csv, a header of the
//     vector's label names sorted (pkg/util/util.go UniqLabels) then "value", "timestamp"; a row per
//     sample with model.SampleValue's String() and the timestamp as RFC 3339; printed with
//     fmt.Println (a blank line after the CSV).
// Range queries, auth, TLS and the config file are not modelled: litmus-go's line uses none.
package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"log"
	"os"
	"sort"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
)

var errlog = log.New(os.Stderr, "", 0)

func main() {
	var host, output, timeStr string
	var timeout int
	root := &cobra.Command{
		Use:  "promql [query_string]",
		Args: cobra.ExactArgs(1),
		Run: func(cmd *cobra.Command, args []string) {
			at := time.Now()
			if timeStr != "now" {
				t, err := time.Parse(time.RFC3339, timeStr)
				if err != nil {
					errlog.Fatalln(err)
				}
				at = t
			}
			client, err := api.NewClient(api.Config{Address: host})
			if err != nil {
				errlog.Fatalln(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout)*time.Second)
			defer cancel()
			result, warnings, err := v1.NewAPI(client).Query(ctx, args[0], at)
			if len(warnings) > 0 {
				errlog.Printf("Warnings: %v\n", warnings)
			}
			if err != nil {
				errlog.Fatalln(fmt.Errorf("error querying prometheus: %v", err))
			}
			vector, ok := result.(model.Vector)
			if !ok {
				errlog.Fatalln(fmt.Errorf("did not receive an instant vector result"))
			}
			if output != "csv" {
				errlog.Fatalln(fmt.Errorf("this model writes csv only (litmus-go asks for csv); found --output %q", output))
			}
			fmt.Println(instantCsv(vector).String())
		},
	}
	root.PersistentFlags().StringVar(&host, "host", "http://0.0.0.0:9090", "prometheus server url")
	root.PersistentFlags().StringVar(&output, "output", "", "output format")
	root.PersistentFlags().StringVar(&timeStr, "time", "now", "time for instant queries")
	root.PersistentFlags().IntVar(&timeout, "timeout", 10, "the timeout in seconds for all queries")
	if err := root.Execute(); err != nil {
		errlog.Fatalln(err)
	}
}

func instantCsv(vector model.Vector) *bytes.Buffer {
	seen := map[model.LabelName]struct{}{}
	for _, s := range vector {
		for k := range s.Metric {
			seen[k] = struct{}{}
		}
	}
	labels := make([]model.LabelName, 0, len(seen))
	for k := range seen {
		labels = append(labels, k)
	}
	sort.Slice(labels, func(i, j int) bool { return string(labels[i]) < string(labels[j]) })
	header := make([]string, 0, len(labels)+2)
	for _, k := range labels {
		header = append(header, string(k))
	}
	rows := [][]string{append(header, "value", "timestamp")}
	for _, s := range vector {
		row := make([]string, 0, len(labels)+2)
		for _, k := range labels {
			row = append(row, string(s.Metric[k]))
		}
		rows = append(rows, append(row, s.Value.String(), s.Timestamp.Time().Format(time.RFC3339)))
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		errlog.Fatalln(err)
	}
	return &buf
}
