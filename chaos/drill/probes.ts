/**
 * Litmus probe semantics, as litmus-go applies them to an engine's `probe` list, over a backend
 * that answers the queries (the real Prometheus and API server in the drill, fakes in unit tests):
 * - a promProbe's query must return exactly one sample, compared as a float with `criteria value`;
 * - a k8sProbe lists what its group/version/resource, namespace and selectors find: `present`
 *   passes on at least one object, `absent` on none;
 * - a check is tried up to `attempt` times, `interval` apart, each within `probeTimeout`;
 * - SOT runs before the fault, EOT after it, Edge both; Continuous runs from before the fault to
 *   its end and OnChaos while it lasts, checks back to back unless `probePollingInterval` is set,
 *   until the first failure.
 * One more rule litmus-go does not have: every metric a promProbe names must exist in Prometheus
 * before the fault. `sum(x) or vector(0)` is 0 for a misspelt `x` too, so without it a wrong
 * query would pass forever.
 */

export type ProbeMode = "SOT" | "EOT" | "Edge" | "Continuous" | "OnChaos";

export interface PromInputs {
  readonly endpoint: string;
  readonly query: string;
  readonly comparator: { readonly criteria: string; readonly value: string };
}

export interface K8sInputs {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly namespace: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly resourceNames?: string;
  readonly operation: string;
}

export interface EngineProbe {
  readonly name: string;
  readonly type: string;
  readonly mode: string;
  readonly "promProbe/inputs"?: PromInputs;
  readonly "k8sProbe/inputs"?: K8sInputs;
  readonly runProperties: {
    readonly probeTimeout: string;
    readonly interval: string;
    readonly attempt?: number;
    readonly probePollingInterval?: string;
  };
}

/** What the probes ask of the world. */
export interface ProbeBackend {
  /** The samples of an instant query. */
  promQuery(endpoint: string, query: string): Promise<number[]>;
  /** How many series carry this metric name now. */
  promSeries(endpoint: string, metric: string): Promise<number>;
  /** How many objects the inputs select; rejects when the API server refuses the request. */
  k8sCount(inputs: K8sInputs): Promise<number>;
}

/** A Go duration as Litmus takes it ("10s", "500ms", "1m30s") in milliseconds. */
export function durationMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text)
    throw new Error(`expected a duration such as "10s" or "1m30s"; found "${text}"`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

/** litmus-go's float comparator. */
export function compare(criteria: string, actual: number, expected: string): boolean {
  const values = expected.split(",").map(Number);
  const [a, b] = values as [number, number];
  switch (criteria) {
    case "==":
      return actual === a;
    case "!=":
      return actual !== a;
    case ">":
      return actual > a;
    case "<":
      return actual < a;
    case ">=":
      return actual >= a;
    case "<=":
      return actual <= a;
    case "OneOf":
      return values.includes(actual);
    case "between":
      return actual >= a && actual <= b;
    default:
      throw new Error(`unknown comparator criteria "${criteria}"`);
  }
}

const PROMQL_WORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "or", "and", "unless", "offset", "bool"]);

/** The metric names a PromQL query reads: identifiers that are not functions, keywords, labels or durations. */
export function metricNames(query: string): string[] {
  const bare = query
    .replace(/"[^"]*"/g, " ")
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // ranges
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, " "); // grouping labels
  const names = new Set<string>();
  for (const m of bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)) if (!m[2] && !PROMQL_WORDS.has(m[1]!)) names.add(m[1]!);
  return [...names];
}

/**
 * The samples in promql's CSV as litmus-go reads them (pkg/probe/promProbe.go L358-390,
 * extractValueFromMetrics): the trimmed output split into lines, a header naming a `value` column,
 * then one line per sample. litmus-go wants exactly one; the caller counts.
 */
export function csvSamples(output: string): number[] {
  const rows = output.trim().split("\n");
  const column = rows[0]!.split(",").findIndex((h) => h.toLowerCase() === "value");
  if (column === -1) throw new Error(`promql printed no value column: ${rows[0]}`);
  return rows.slice(1).map((r) => {
    const v = r.split(",")[column];
    if (v === undefined || v === "") throw new Error(`promql printed no value in "${r}"`);
    return Number(v);
  });
}

export interface CheckResult {
  readonly ok: boolean;
  /** What was seen: the value, the count, or why it failed. */
  readonly observed: string;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One check of a probe, no retries. */
export async function checkOnce(probe: EngineProbe, backend: ProbeBackend): Promise<CheckResult> {
  const timeout = durationMs(probe.runProperties.probeTimeout);
  try {
    if (probe.type === "promProbe") {
      const inputs = probe["promProbe/inputs"]!;
      const samples = await withTimeout(backend.promQuery(inputs.endpoint, inputs.query), timeout, "the query");
      if (samples.length !== 1) return { ok: false, observed: `${samples.length} samples (expected exactly one)` };
      return { ok: compare(inputs.comparator.criteria, samples[0]!, inputs.comparator.value), observed: String(samples[0]) };
    }
    if (probe.type === "k8sProbe") {
      const inputs = probe["k8sProbe/inputs"]!;
      const count = await withTimeout(backend.k8sCount(inputs), timeout, "the listing");
      const ok = inputs.operation === "present" ? count > 0 : inputs.operation === "absent" ? count === 0 : false;
      return {
        ok,
        observed:
          `${count} ${inputs.resource}` +
          (ok || ["present", "absent"].includes(inputs.operation) ? "" : ` (operation ${inputs.operation} is not a check)`),
      };
    }
    return { ok: false, observed: `probe type ${probe.type} is not evaluated by the drill` };
  } catch (err) {
    return { ok: false, observed: (err as Error).message };
  }
}

export type Sleep = (ms: number) => Promise<void>;

/** One check with litmus-go's retries: up to `attempt` tries, `interval` apart. */
export async function check(probe: EngineProbe, backend: ProbeBackend, sleep: Sleep): Promise<CheckResult> {
  const attempts = Math.max(1, probe.runProperties.attempt ?? 1);
  let last: CheckResult = { ok: false, observed: "not run" };
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep(durationMs(probe.runProperties.interval));
    last = await checkOnce(probe, backend);
    if (last.ok) return last;
  }
  return last;
}

/** The evidence rule: every metric of a promProbe has a series now. */
export async function metricsExist(probe: EngineProbe, backend: ProbeBackend): Promise<CheckResult> {
  const inputs = probe["promProbe/inputs"];
  if (!inputs) return { ok: true, observed: "" };
  const missing: string[] = [];
  for (const name of metricNames(inputs.query)) if ((await backend.promSeries(inputs.endpoint, name)) === 0) missing.push(name);
  return missing.length === 0
    ? { ok: true, observed: "" }
    : { ok: false, observed: `no series named ${missing.join(", ")} in Prometheus: a wrong metric name, or nothing scraped` };
}

export interface ProbeVerdict {
  readonly name: string;
  readonly mode: string;
  readonly passed: boolean;
  readonly checks: number;
  /** The first failure, else the last value seen. */
  readonly observed: string;
}

const VALID_MODES: readonly string[] = ["SOT", "EOT", "Edge", "Continuous", "OnChaos"];

/**
 * Runs an engine's probes around a fault, as litmus-go would. `fault` carries out the chaos and
 * resolves when its duration is over.
 */
export async function runWithProbes<T>(
  probes: readonly EngineProbe[],
  backend: ProbeBackend,
  fault: () => Promise<T>,
  sleep: Sleep,
): Promise<{ verdicts: ProbeVerdict[]; figures: T }> {
  const state = new Map(probes.map((p) => [p.name, { passed: true, checks: 0, observed: "" }]));
  const record = (p: EngineProbe, r: CheckResult) => {
    const s = state.get(p.name)!;
    s.checks += 1;
    if (s.passed) s.observed = r.observed;
    if (!r.ok) s.passed = false;
  };
  for (const p of probes) {
    if (!VALID_MODES.includes(p.mode)) record(p, { ok: false, observed: `unknown mode ${p.mode}` });
    const evidence = await metricsExist(p, backend);
    if (!evidence.ok) record(p, evidence);
  }
  for (const p of probes.filter((q) => q.mode === "SOT" || q.mode === "Edge")) record(p, await check(p, backend, sleep));

  let chaosOver = false;
  // As litmus-go polls (pkg/probe/promProbe.go L234-275, k8sprobe.go L150-170): one check (with its
  // attempts, `interval` apart) after the other, `probePollingInterval` between them, which is 0
  // when unset (pkg/types/types.go L389, L403-407): back to back. The first failure ends the
  // polling (L258-270). sleep(0) only yields, as the Go routine does while its command runs.
  const poll = async (p: EngineProbe) => {
    const every = p.runProperties.probePollingInterval ? durationMs(p.runProperties.probePollingInterval) : 0;
    for (;;) {
      const r = await check(p, backend, sleep);
      record(p, r);
      if (!r.ok || chaosOver) return;
      await sleep(every);
    }
  };
  const watchers = probes.filter((p) => p.mode === "Continuous" || p.mode === "OnChaos").map(poll);
  let figures: T;
  try {
    figures = await fault();
  } finally {
    chaosOver = true;
  }
  await Promise.all(watchers);

  for (const p of probes.filter((q) => q.mode === "EOT" || q.mode === "Edge")) record(p, await check(p, backend, sleep));
  return {
    verdicts: probes.map((p) => ({ name: p.name, mode: p.mode, ...state.get(p.name)! })),
    figures,
  };
}
