/** Prometheus metrics of the operator (prom-client), on their own registry. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { RELAUNCH_REASONS } from "./core/decide.js";

/** What a real (not dry-run) relaunch can end as. */
export const RELAUNCH_RESULTS = ["created", "exists", "error"] as const;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "streamforge_operator_" });
  const m = {
    registry,
    eventsConsumed: new Counter({
      name: "streamforge_operator_events_total",
      help: "Events applied to state, by kind.",
      labelNames: ["kind"],
      registers: [registry],
    }),
    eventRejections: new Counter({
      name: "streamforge_operator_event_rejections_total",
      help: "Messages that were not usable events, by reason.",
      labelNames: ["reason"],
      registers: [registry],
    }),
    clockSkewed: new Counter({
      name: "streamforge_operator_events_clock_skewed_total",
      help: "Events stamped further in the future than the tolerated skew.",
      registers: [registry],
    }),
    trackedJobs: new Gauge({
      name: "streamforge_operator_tracked_jobs",
      help: "Managed Jobs in the watched namespace.",
      registers: [registry],
    }),
    trackedQueues: new Gauge({ name: "streamforge_operator_tracked_queues", help: "Queues with event state.", registers: [registry] }),
    detections: new Counter({
      name: "streamforge_operator_detections_total",
      help: "Jobs found stuck or faulty (once per Job and verdict).",
      labelNames: ["verdict"],
      registers: [registry],
    }),
    relaunches: new Counter({
      name: "streamforge_operator_relaunches_total",
      help: "Relaunches, by reason and result.",
      labelNames: ["reason", "result"],
      registers: [registry],
    }),
    actionFailures: new Counter({
      name: "streamforge_operator_action_failures_total",
      help: "Relaunch or give-up steps the API server refused or that failed, by kind (terminal: not retried hot; transient: backed off).",
      labelNames: ["kind", "status"],
      registers: [registry],
    }),
    giveUps: new Counter({
      name: "streamforge_operator_give_ups_total",
      help: "Queues given up on after their restart budget was spent.",
      labelNames: ["reason"],
      registers: [registry],
    }),
    held: new Counter({
      name: "streamforge_operator_relaunches_held_total",
      help: "Relaunch decisions held back, by why.",
      labelNames: ["why"],
      registers: [registry],
    }),
    consumerLag: new Gauge({
      name: "streamforge_operator_consumer_lag",
      help: "Messages behind the end of queue-events.",
      registers: [registry],
    }),
    sourceHealthy: new Gauge({
      name: "streamforge_operator_event_source_healthy",
      help: "1 when the event source is connected and current.",
      registers: [registry],
    }),
    clusterClockOffset: new Gauge({
      name: "streamforge_operator_cluster_clock_offset_seconds",
      help: "The cluster's clock (the API server's) minus this process's, as applied to Job times and event stamps; 0 below 2 s.",
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      // controller-runtime's controller_runtime_reconcile_errors_total, for the one decision loop.
      name: "streamforge_operator_reconcile_errors_total",
      help: "Decision rounds that failed (each is retried after a backoff; MAX_FAILED_ROUNDS in a row end the process).",
      registers: [registry],
    }),
    leader: new Gauge({ name: "streamforge_operator_leader", help: "1 on the replica holding the Lease.", registers: [registry] }),
    decisionSeconds: new Histogram({
      name: "streamforge_operator_decision_seconds",
      help: "Time to decide over all tracked Jobs.",
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
  };
  // Every reason and result exists from the start at 0, so a query for them (an alert, a chaos
  // probe) finds a series on an operator that never relaunched, instead of nothing.
  for (const reason of RELAUNCH_REASONS) for (const result of RELAUNCH_RESULTS) m.relaunches.inc({ reason, result }, 0);
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
