/**
 * The raw metrics exposition the canary tests serve in place of real processes, one builder for
 * canary-stack.ts and analysis.itest.ts: queue-manager's HTTP counters and latency histogram as its
 * prometheus_client serves them (no namespace, pod or hash labels: the PodMonitor's relabelling
 * adds those), and the self-healing operator's event counter.
 */

/** The latency histogram's bucket bounds (seconds). */
export const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Share of requests at or under each bound (cumulative, last = 1). */
export const FAST = [0.9, 0.99, 1, 1, 1, 1, 1];
export const SLOW = [0, 0, 0, 0, 0.05, 0.9, 1];

/** How one pod-template hash behaves: requests per second, share of 5xx, and where its latencies fall. */
export interface Traffic {
  readonly rps: number;
  readonly errorShare: number;
  /** Per LATENCY_BUCKETS bound. */
  readonly latency: readonly number[];
}

/**
 * queue-manager's exposition after `seconds` of `traffic`. With `route`, the requests carry its
 * handler and method and the histogram its handler, as the service labels them; without, none.
 */
export function queueManagerExposition(seconds: number, traffic: Traffic, route?: { handler: string; method: string }): string {
  const total = traffic.rps * seconds;
  const requests = route ? `handler="${route.handler}",method="${route.method}",` : "";
  const histogram = route ? `handler="${route.handler}",` : "";
  const plain = route ? `{handler="${route.handler}"}` : "";
  return [
    "# TYPE http_requests_total counter",
    `http_requests_total{${requests}status="2xx"} ${total * (1 - traffic.errorShare)}`,
    // prometheus_client creates a labelled series when it is first incremented: no 5xx yet, no series.
    ...(traffic.errorShare > 0 ? [`http_requests_total{${requests}status="5xx"} ${total * traffic.errorShare}`] : []),
    "# TYPE http_request_duration_seconds histogram",
    ...LATENCY_BUCKETS.map((le, i) => `http_request_duration_seconds_bucket{${histogram}le="${le}"} ${total * traffic.latency[i]!}`),
    `http_request_duration_seconds_bucket{${histogram}le="+Inf"} ${total}`,
    `http_request_duration_seconds_count${plain} ${total}`,
    "",
  ].join("\n");
}

/** The operator's events counter after `seconds`: 20 progress events a second, and `fatal` critical errors. */
export function operatorExposition(seconds: number, fatal = 0): string {
  return [
    "# TYPE streamforge_operator_events_total counter",
    `streamforge_operator_events_total{kind="progress"} ${seconds * 20}`,
    `streamforge_operator_events_total{kind="fatal"} ${fatal}`,
    "",
  ].join("\n");
}
