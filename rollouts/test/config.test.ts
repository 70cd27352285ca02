import { committedConfig, variantProblems } from "../../test/helpers";
import { expressibleWeight } from "../config";
import { podMonitor } from "../spec";

function problemsOf(stack: string, change: (rollouts: any) => void): string[] {
  return variantProblems(stack, (raw) => change(raw.rollouts));
}

describe("rollouts config", () => {
  it("fills the default steps: 10% -> pause -> analysis -> 25% -> analysis -> 50% -> analysis -> 100%", () => {
    const config = committedConfig("dev");
    expect(config.rollouts?.steps).toEqual([
      { setWeight: 10 },
      { pause: { duration: "2m" } },
      { analysis: true },
      { setWeight: 25 },
      { analysis: true },
      { setWeight: 50 },
      { analysis: true },
      { setWeight: 100 },
    ]);
    expect(config.rollouts?.controller).toEqual({ install: true, namespace: "argo-rollouts", chartVersion: "2.41.0", version: "v1.10.2" });
  });

  it("refuses, without a traffic router, a weight the replica count cannot express, saying how many replicas it needs", () => {
    expect(problemsOf("dev", (r) => (r.router = { type: "replicas" }))).toEqual([
      "streamforge:rollouts.steps[0].setWeight: expected a weight 1 replica(s) can express without a traffic router (10% needs a multiple of 10 replicas); found 10. Use router istio or gateway-api for a true 10%",
      expect.stringMatching(/^streamforge:rollouts\.steps\[3\]\.setWeight: .*25% needs a multiple of 4 replicas/),
      expect.stringMatching(/^streamforge:rollouts\.steps\[5\]\.setWeight: .*50% needs a multiple of 2 replicas/),
    ]);
    expect(
      problemsOf("dev", (r) => {
        r.router = { type: "replicas" };
        r.queueManager.replicas = 4;
        r.steps = [{ setWeight: 25 }, { analysis: true }, { setWeight: 50 }, { setWeight: 100 }];
      }),
    ).toEqual([]);
  });

  it("wants weights that only rise, and a last 100% step", () => {
    expect(problemsOf("dev", (r) => (r.steps = [{ setWeight: 50 }, { setWeight: 10 }, { setWeight: 100 }]))).toEqual([
      "streamforge:rollouts.steps[1].setWeight: expected a weight >= the previous step's 50; found 10",
    ]);
    expect(problemsOf("dev", (r) => (r.steps = [{ setWeight: 10 }, { analysis: true }]))).toEqual([
      "streamforge:rollouts.steps: expected a last setWeight of 100, so a healthy canary is promoted by its steps; found none",
    ]);
  });

  it("wants each rate window to hold two scrapes of the PodMonitor, and scrapes queue-manager at that interval", () => {
    expect(committedConfig("dev").rollouts?.analysis.scrapeInterval).toBe("15s");
    expect(problemsOf("dev", (r) => (r.analysis.interval = "20s"))).toEqual([
      "streamforge:rollouts.analysis.interval: expected at least two scrape intervals (analysis.scrapeInterval 15s), so each rate window holds two samples; found 20s",
    ]);
    expect(problemsOf("dev", (r) => (r.analysis = { ...r.analysis, interval: "10s", scrapeInterval: "5s" }))).toEqual([]);
    const local = committedConfig("local").rollouts!.analysis;
    expect([local.interval, local.scrapeInterval]).toEqual(["10s", "2s"]);
    expect((podMonitor("stf", local.scrapeInterval) as any).spec.podMetricsEndpoints[0].interval).toBe("2s");
  });

  it("takes a controller instance ID only as a DNS label (it names the controller's Lease)", () => {
    expect(problemsOf("dev", (r) => (r.controller = { ...r.controller, instanceId: "team-a" }))).toEqual([]);
    expect(problemsOf("dev", (r) => (r.controller = { ...r.controller, instanceId: "Team_A" }))).toEqual([
      expect.stringMatching(/^streamforge:rollouts\.controller\.instanceId: .*lowercase DNS label/),
    ]);
  });

  it("refuses an autoscaler that would change the weights of the replica-count router", () => {
    expect(
      problemsOf("prod", (r) => {
        r.router = { type: "replicas" };
        r.queueManager.replicas = 10;
        r.steps = [{ setWeight: 10 }, { setWeight: 100 }];
      }),
    ).toEqual([
      "streamforge:rollouts.queueManager.autoscaling: expected no autoscaler with router replicas: the weights are replica counts, which the autoscaler would change mid-canary",
    ]);
  });

  it("wants the Gateway API plugin pinned by location and sha256", () => {
    const problems = problemsOf("dev", (r) => {
      r.router = {
        type: "gateway-api",
        gateway: { name: "public", namespace: "gateway" },
        plugin: { version: "v0.15.0", location: "https://x/plugin" },
      };
    });
    expect(problems).toEqual([
      "streamforge:rollouts.router.plugin.sha256: expected a value of type string; found nothing (the key is missing)",
    ]);
  });

  it("wants the hosts an https plugin is downloaded from, since the controller's namespace denies egress", () => {
    const gateway = (plugin: object) => (r: any) => {
      r.router = { type: "gateway-api", gateway: { name: "public", namespace: "gateway" }, plugin };
    };
    const pinned = { version: "v0.15.0", location: "https://x/plugin", sha256: "a".repeat(64) };
    expect(problemsOf("dev", gateway(pinned))).toEqual([
      "streamforge:rollouts.router.plugin.downloadFrom: expected the CIDRs of the plugin's download host: the controller downloads it at each start and its namespace denies egress elsewhere; found nothing. Name them, or serve the plugin from inside the cluster, or use a file:// location baked into the controller's image",
    ]);
    expect(problemsOf("dev", gateway({ ...pinned, downloadFrom: ["140.82.112.0/20"] }))).toEqual([]);
    expect(problemsOf("dev", gateway({ ...pinned, location: "file:///plugins/gatewayapi" }))).toEqual([]);
  });

  it("wants queue-manager's Kafka user in the catalogue, and an http Prometheus address", () => {
    expect(problemsOf("dev", (r) => (r.queueManager.kafkaUser = "qm"))).toEqual([
      'streamforge:rollouts.queueManager.kafkaUser: expected a user of streamforge:catalogue.users (queue-manager, loaders, arango-connector, self-healing-operator); found "qm"',
    ]);
    expect(problemsOf("dev", (r) => (r.analysis.prometheusAddress = "prometheus:9090"))).toEqual([
      'streamforge:rollouts.analysis.prometheusAddress: expected an http(s) URL such as http://prometheus.monitoring:9090; found "prometheus:9090" (string)',
    ]);
  });

  it.each([
    [10, 10, true],
    [10, 9, false],
    [25, 4, true],
    [25, 2, false],
    [50, 2, true],
    [100, 1, true],
  ])("%i%% with %i replicas expressible: %s", (weight, replicas, ok) => {
    expect(expressibleWeight(weight, replicas)).toBe(ok);
  });
});
