/**
 * The drill's reading of Litmus probes: the parts that decide a verdict, over a scripted backend.
 * The drill itself runs them against the real Prometheus and API server (drill.itest.ts).
 */
import { committedConfig } from "../../test/helpers";
import {
  type EngineProbe,
  type ProbeBackend,
  check,
  checkOnce,
  compare,
  csvSamples,
  durationMs,
  metricNames,
  runWithProbes,
} from "../drill/probes";
import { serialPodDelete } from "../drill/engines";
import { brokerFailureEngine, workerNetworkLatencyEngine, workerPodDeleteEngine } from "../spec";

const tick = () => new Promise<void>((r) => setImmediate(r));

function backend(over: Partial<ProbeBackend> = {}): ProbeBackend {
  return {
    promQuery: () => Promise.resolve([0]),
    promSeries: () => Promise.resolve(1),
    k8sCount: () => Promise.resolve(1),
    ...over,
  };
}

const prom = (name: string, mode: string, query: string, criteria = "==", value = "0", attempt?: number): EngineProbe => ({
  name,
  type: "promProbe",
  mode,
  "promProbe/inputs": { endpoint: "http://p", query, comparator: { criteria, value } },
  runProperties: { probeTimeout: "1s", interval: "10ms", ...(attempt ? { attempt } : {}) },
});

describe("durations and comparisons as litmus-go reads them", () => {
  it("reads Go durations and names a bad one", () => {
    expect(durationMs("10s")).toBe(10_000);
    expect(durationMs("1m30s")).toBe(90_000);
    expect(durationMs("500ms")).toBe(500);
    expect(() => durationMs("10")).toThrow(/expected a duration such as "10s".*found "10"/);
    expect(() => durationMs("10 s")).toThrow(/found "10 s"/);
  });

  it("compares floats with every criteria", () => {
    expect(compare("==", 0, "0")).toBe(true);
    expect(compare(">", 0, "0")).toBe(false);
    expect(compare(">=", 1, "1")).toBe(true);
    expect(compare("<=", 2, "1")).toBe(false);
    expect(compare("!=", 2, "1")).toBe(true);
    expect(compare("OneOf", 2, "1,2")).toBe(true);
    expect(compare("between", 5, "1,4")).toBe(false);
    expect(() => compare("~", 1, "1")).toThrow(/unknown comparator criteria "~"/);
  });
});

describe("the metrics a query reads", () => {
  it("skips functions, keywords, labels, ranges and numbers", () => {
    expect(metricNames('sum(increase(streamforge_operator_relaunches_total{reason="stuck"}[100s])) or vector(0)')).toEqual([
      "streamforge_operator_relaunches_total",
    ]);
    expect(metricNames("max by (instance) (kafka_server_replicamanager_underreplicatedpartitions) / on(job) up")).toEqual([
      "kafka_server_replicamanager_underreplicatedpartitions",
      "up",
    ]);
  });

  it("finds every metric the stacks' engines query, and nothing else", () => {
    const chaos = committedConfig("local").chaos!;
    const ctx = {
      chaosNamespace: "chaos",
      kafkaNamespace: "kafka",
      clusterName: "k3",
      prometheusAddress: "http://p",
      appsNamespace: "stf",
    };
    const engines = [
      brokerFailureEngine(chaos.scenarios.brokerFailure!, ctx, [{ name: "dual-role", replicas: 3 }]),
      workerPodDeleteEngine("loader-pod-delete", chaos.scenarios.loaderPodDelete, ctx, ["a-x"], ["a"]),
      workerNetworkLatencyEngine(chaos.scenarios.networkLatency, { ...ctx, kafkaHosts: ["k"] }, ["a"]),
    ];
    const names = engines.flatMap((e) =>
      e.spec.experiments[0]!.spec.probe.flatMap((p: any) => (p["promProbe/inputs"] ? metricNames(p["promProbe/inputs"].query) : [])),
    );
    expect([...new Set(names)].sort()).toEqual([
      "kafka_controller_kafkacontroller_offlinepartitionscount",
      "kafka_server_replicamanager_underreplicatedpartitions",
      "streamforge_operator_event_source_healthy",
      "streamforge_operator_events_total",
      "streamforge_operator_relaunches_total",
    ]);
  });
});

describe("promql's CSV, as litmus-go reads it", () => {
  it("takes the value column of each row after the header, and names output without one", () => {
    expect(csvSamples("value,timestamp\n\n")).toEqual([]);
    expect(csvSamples("value,timestamp\n1.5,2026-12-06T03:20:32Z\n")).toEqual([1.5]);
    expect(csvSamples("job,value,timestamp\na,1,t\nb,2,t\n")).toEqual([1, 2]);
    expect(() => csvSamples("did not receive an instant vector result")).toThrow(/promql printed no value column/);
  });
});

describe("one check", () => {
  it("needs exactly one sample from a promProbe", async () => {
    const p = prom("p", "EOT", "x");
    expect(await checkOnce(p, backend({ promQuery: () => Promise.resolve([]) }))).toEqual({
      ok: false,
      observed: "0 samples (expected exactly one)",
    });
    expect(await checkOnce(p, backend({ promQuery: () => Promise.resolve([0, 0]) }))).toMatchObject({ ok: false });
    expect(await checkOnce(p, backend({ promQuery: () => Promise.resolve([0]) }))).toEqual({ ok: true, observed: "0" });
    expect(await checkOnce(p, backend({ promQuery: () => Promise.resolve([3]) }))).toEqual({ ok: false, observed: "3" });
  });

  it("passes a k8sProbe on present or absent objects, and fails when the API server refuses the selector", async () => {
    const k8s = (operation: string): EngineProbe => ({
      name: "k",
      type: "k8sProbe",
      mode: "EOT",
      "k8sProbe/inputs": {
        group: "batch",
        version: "v1",
        resource: "jobs",
        namespace: "stf",
        fieldSelector: "status.successful!=1",
        operation,
      },
      runProperties: { probeTimeout: "1s", interval: "10ms" },
    });
    expect((await checkOnce(k8s("present"), backend({ k8sCount: () => Promise.resolve(2) }))).ok).toBe(true);
    expect((await checkOnce(k8s("absent"), backend({ k8sCount: () => Promise.resolve(2) }))).ok).toBe(false);
    expect(
      await checkOnce(k8s("present"), backend({ k8sCount: () => Promise.reject(new Error('field label "x" not supported')) })),
    ).toEqual({
      ok: false,
      observed: 'field label "x" not supported',
    });
  });

  it("retries up to attempt times and stops at the first pass", async () => {
    const answers = [1, 1, 0, 5];
    let asked = 0;
    const b = backend({ promQuery: () => Promise.resolve([answers[asked++]!]) });
    expect(await check(prom("p", "EOT", "x", "==", "0", 4), b, tick)).toEqual({ ok: true, observed: "0" });
    expect(asked).toBe(3);
    asked = 0;
    expect((await check(prom("p", "EOT", "x", "==", "0", 2), b, tick)).ok).toBe(false);
  });
});

describe("probes around a fault", () => {
  it("fails a Continuous probe that fails once while the fault runs, and passes the others", async () => {
    let faultOn = false;
    const b = backend({ promQuery: (_e, q) => Promise.resolve([q === "offline" && faultOn ? 1 : 0]) });
    const { verdicts, figures } = await runWithProbes(
      [
        prom("steady", "Continuous", "steady"),
        prom("offline", "Continuous", "offline"),
        prom("after", "EOT", "after"),
        prom("before", "SOT", "before"),
      ],
      b,
      async () => {
        for (let i = 0; i < 5; i++) await tick();
        faultOn = true;
        for (let i = 0; i < 5; i++) await tick();
        faultOn = false;
        return "done";
      },
      tick,
    );
    expect(figures).toBe("done");
    expect(Object.fromEntries(verdicts.map((v) => [v.name, v.passed]))).toEqual({
      steady: true,
      offline: false,
      after: true,
      before: true,
    });
    const offline = verdicts.find((v) => v.name === "offline")!;
    expect(offline.observed).toBe("1");
    expect(offline.checks).toBeGreaterThan(1);
  });

  it("polls a Continuous probe back to back when no probePollingInterval is set, as litmus-go does, and stops at its first failure", async () => {
    const sleeps: number[] = [];
    const recordingSleep = (ms: number) => {
      sleeps.push(ms);
      return tick();
    };
    let asked = 0;
    let faultOn = false;
    const b = backend({
      promQuery: () => {
        asked += 1;
        return Promise.resolve([faultOn ? 1 : 0]);
      },
    });
    const { verdicts } = await runWithProbes(
      [prom("offline", "Continuous", "offline")],
      b,
      async () => {
        for (let i = 0; i < 20; i++) await tick();
        faultOn = true;
        for (let i = 0; i < 20; i++) await tick();
        return "done";
      },
      recordingSleep,
    );
    expect(verdicts[0]).toMatchObject({ passed: false, observed: "1" });
    // Every pause between checks was 0 ms (not the 10 ms interval), and nothing was asked after the failure.
    expect(sleeps.length).toBeGreaterThan(3);
    expect(new Set(sleeps)).toEqual(new Set([0]));
    expect(asked).toBe(verdicts[0]!.checks);
  });

  it("fails a probe whose metric has no series, even when `or vector(0)` makes its query pass", async () => {
    const b = backend({ promSeries: (_e, m) => Promise.resolve(m === "kafka_misspelt_offline" ? 0 : 1) });
    const { verdicts } = await runWithProbes(
      [prom("offline", "EOT", "sum(kafka_misspelt_offline) or vector(0)")],
      b,
      () => Promise.resolve(),
      tick,
    );
    expect(verdicts[0]).toMatchObject({ passed: false, observed: expect.stringMatching(/no series named kafka_misspelt_offline/) });
  });

  it("fails a probe with a mode Litmus does not have", async () => {
    const { verdicts } = await runWithProbes([prom("p", "Sometimes", "x")], backend(), () => Promise.resolve(), tick);
    expect(verdicts[0]).toMatchObject({ passed: false, observed: "unknown mode Sometimes" });
  });
});

describe("litmus-go's serial pod-delete, as the drill plays it", () => {
  /** A clock that moves only when the engine sleeps or a restart takes time. */
  function world(restartMs: number) {
    let t = 0;
    const killedAt: number[] = [];
    return {
      killedAt,
      ports: {
        now: () => t,
        sleep: (ms: number) => {
          t += ms;
          return Promise.resolve();
        },
        kill: (target: string) => {
          killedAt.push(t);
          const ready = t + restartMs;
          // Running again at `ready`: the engine's wait after the interval takes what is left.
          return Promise.resolve().then(() => {
            if (t < ready) t = ready;
            void target;
          });
        },
      },
    };
  }

  it("kills on the interval while the restart is quicker, without any wait for recovery", async () => {
    const w = world(5_000);
    const kills = await serialPodDelete(["k3-dual-role-0"], 60_000, 30_000, w.ports);
    expect(kills.map((k) => k.at)).toEqual([0, 30_000]);
  });

  it("waits for the pod to run again when the restart outlasts the interval, then kills at once", async () => {
    const w = world(40_000);
    const kills = await serialPodDelete(["k3-dual-role-0"], 60_000, 30_000, w.ports);
    expect(kills.map((k) => [k.at, k.back])).toEqual([
      [0, 40_000],
      [40_000, 40_000],
    ]);
  });

  it("finishes a round over every target even past the duration, and checks the duration only between rounds", async () => {
    const w = world(1_000);
    const kills = await serialPodDelete(["a", "b"], 50_000, 30_000, w.ports);
    expect(kills.map((k) => [k.target, k.at])).toEqual([
      ["a", 0],
      ["b", 30_000],
    ]);
  });
});
