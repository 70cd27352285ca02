/** A platform as the rule tests see it: separate broker and controller pools, persistent brokers, every area on. */
import { observabilityArea } from "../config";
import type { ObservabilityConfig } from "../config";
import type { ObservabilityContext } from "../spec";

export const RUNBOOK = "https://docs.example/runbook.md";

export function testConfig(edit: (raw: Record<string, unknown>) => void = () => undefined): ObservabilityConfig {
  const raw: Record<string, unknown> = { enabled: true, runbookUrl: RUNBOOK };
  edit(raw);
  return observabilityArea.keys.observability.parse(raw);
}

export const CONTEXT: ObservabilityContext = {
  namespace: "monitoring",
  operator: { namespace: "stf" },
  kafka: {
    namespace: "kafka",
    clusterName: "k3",
    brokerPools: [{ name: "broker", replicas: 3 }],
    controllerPools: ["controller"],
    persistentBrokerPools: ["broker"],
    jmxExporter: true,
    kafkaExporter: true,
    consumerGroups: ["loader-*", "queue-manager", "streamforge-self-healing"],
  },
  rollouts: {
    namespace: "stf",
    controllerNamespace: "argo-rollouts",
    rolloutName: "queue-manager",
    metrics: {
      requestsTotal: "http_requests_total",
      statusLabel: "status",
      serverErrorStatus: "5..",
      durationBucket: "http_request_duration_seconds_bucket",
    },
  },
  chaos: { namespace: "chaos" },
};
