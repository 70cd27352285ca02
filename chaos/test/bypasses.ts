/**
 * Every way round the ChaosEngine guard we know of, one per class: each is an engine the program
 * builds, changed by one edit, and the refusal the guard must give. guard.test.ts evaluates them
 * with the guard's CEL locally, guard.itest.ts sends them to the real API server.
 */
import { FAULTS } from "../spec";

export interface Namespaces {
  readonly chaos: string;
  readonly apps: string;
  readonly kafka: string;
}

/** The program's engines, fresh for each case. */
export interface Engines {
  readonly loader: () => any;
  readonly latency: () => any;
  readonly broker: () => any;
}

export interface GuardLimits {
  readonly maxDurationSeconds: number;
  readonly kafkaHosts: readonly string[];
  readonly prometheusAddress: string;
  readonly chaosRunnerImage: string;
  readonly workerPodPattern: string;
}

const ENV = "spec.experiments[0].spec.components.env";
const RUNNER = "spec.components.runner: expected only the image and an empty resources (as Litmus writes them back); found ";
const COMPONENTS =
  "spec.experiments[0].spec.components: expected only env (and an empty statusCheckTimeouts and resources, as Litmus writes them back); found ";
const PROM_INPUTS =
  'spec.experiments[0].spec.probe[] promProbe/inputs: expected only endpoint, query and comparator, and a query without ", $, ` or \\ (litmus-go runs it through /bin/sh)';
const components = (e: any) => e.spec.experiments[0].spec.components;
const env = (e: any) => components(e).env as { name: string; value?: string; valueFrom?: object }[];
const setEnv = (e: any, name: string, value: string) => {
  const found = env(e).find((v) => v.name === name);
  if (found) found.value = value;
  else env(e).push({ name, value });
  return e;
};
const edit =
  (make: () => any, change: (e: any) => void): (() => any) =>
  () => {
    const e = make();
    change(e);
    return e;
  };

/** [what is tried, the engine, the refusal's message]. */
export function bypasses(ns: Namespaces, engines: Engines, limits: GuardLimits): [string, () => any, string][] {
  const { loader, latency, broker } = engines;
  const podDeleteEnv = `${ENV}: expected only TOTAL_CHAOS_DURATION, CHAOS_INTERVAL, FORCE, SEQUENCE for pod-delete; found `;
  const latencyEnv = `${ENV}: expected only TOTAL_CHAOS_DURATION, NETWORK_LATENCY, JITTER, SEQUENCE, DESTINATION_HOSTS for pod-network-latency; found `;
  const overrides: [string, string][] = [
    ["TARGET_PODS", "queue-manager-7d9f6c5b4-abcde"],
    ["TARGETS", `pod:${ns.apps}:queue-manager-7d9f6c5b4-abcde`],
    ["CHAOS_NAMESPACE", ns.apps],
    ["CHAOS_SERVICE_ACCOUNT", "default"],
    ["PODS_AFFECTED_PERC", "100"],
    ["NODE_LABEL", "kubernetes.io/os=linux"],
    ["RAMP_TIME", "60"],
  ];
  const helperOverrides: [string, string][] = [
    ["LIB_IMAGE", "attacker/root:latest"],
    ["LIB_IMAGE_PULL_POLICY", "Always"],
    ["SOCKET_PATH", "/etc/kubernetes/admin.conf"],
    ["CONTAINER_RUNTIME", "docker"],
    ["TARGET_CONTAINER", "sidecar"],
    ["SET_HELPER_DATA", "false"],
    ["NETWORK_INTERFACE", "eth1"],
  ];
  return [
    // ---- where and who
    [
      "an engine in another namespace",
      edit(loader, (e) => (e.metadata.namespace = ns.apps)),
      `metadata.namespace: expected ${ns.chaos} (the only namespace chaos runs in); found ${ns.apps}`,
    ],
    [
      "a label the runner copies onto its pods",
      edit(loader, (e) => (e.metadata.labels["app.kubernetes.io/name"] = "queue-manager")),
      "metadata.labels: expected only app.kubernetes.io/part-of, app.kubernetes.io/component, streamforge.io/scenario; found app.kubernetes.io/name",
    ],
    [
      "the sidecar annotation",
      edit(loader, (e) => (e.metadata.annotations = { "sidecar/enabled": "true" })),
      "metadata.annotations sidecar/enabled: expected absent (sidecars add any image to the experiment and helper pods)",
    ],
    [
      "a second experiment",
      edit(loader, (e) => e.spec.experiments.push(latency().spec.experiments[0])),
      "spec.experiments: expected exactly one experiment; found 2",
    ],
    [
      "an experiment of another name",
      edit(loader, (e) => (e.spec.experiments[0].name = "node-drain")),
      `spec.experiments[0].name: expected one of ${FAULTS.join(", ")}; found node-drain`,
    ],
    [
      "the other fault's account",
      edit(loader, (e) => (e.spec.chaosServiceAccount = "chaos-pod-network-latency")),
      "spec.chaosServiceAccount: expected chaos-pod-delete (the account of the engine's own fault); found 'chaos-pod-network-latency'",
    ],
    [
      "an account of another name",
      edit(loader, (e) => (e.spec.chaosServiceAccount = "default")),
      "spec.chaosServiceAccount: expected chaos-pod-delete (the account of the engine's own fault); found 'default'",
    ],
    [
      "helpers left behind (jobCleanUpPolicy retain)",
      edit(loader, (e) => (e.spec.jobCleanUpPolicy = "retain")),
      "spec.jobCleanUpPolicy: expected delete; found 'retain'",
    ],
    // ---- targets
    [
      "selection by label and kind (appinfo)",
      edit(loader, (e) => {
        delete e.spec.selectors;
        e.spec.appinfo = { appns: ns.apps, applabel: "app.kubernetes.io/name=queue-manager", appkind: "deployment" };
      }),
      "spec.appinfo: expected absent (label or kind selection can pick any pod, such as queue-manager); name the pods in spec.selectors.pods",
    ],
    [
      "health checks of other apps (auxiliaryAppInfo)",
      edit(loader, (e) => (e.spec.auxiliaryAppInfo = `${ns.apps}:app=queue-manager`)),
      "spec: expected only engineState, chaosServiceAccount, jobCleanUpPolicy, selectors, experiments, appinfo, components; found auxiliaryAppInfo",
    ],
    [
      "selection by workload",
      edit(loader, (e) => (e.spec.selectors = { workloads: [{ kind: "deployment", namespace: ns.apps, names: "queue-manager" }] })),
      "spec.selectors.workloads: expected absent (a workload's pods are picked at random); name the pods in spec.selectors.pods",
    ],
    [
      "a pod in another namespace",
      edit(loader, (e) => (e.spec.selectors.pods[0].namespace = "kube-system")),
      `spec.selectors.pods[].namespace: expected ${ns.apps} (worker pods) or ${ns.kafka} (broker pods); found kube-system`,
    ],
    [
      "a queue-manager pod",
      edit(loader, (e) => (e.spec.selectors.pods[0].names = "q1-loader-producer-abcde,queue-manager-7d9f6c5b4-abcde")),
      `spec.selectors.pods[].names in ${ns.apps}: expected worker Job pods matching ${limits.workerPodPattern} (never queue-manager or the operator); found q1-loader-producer-abcde,queue-manager-7d9f6c5b4-abcde`,
    ],
    [
      "two brokers when the cluster tolerates one",
      edit(broker, (e) => (e.spec.selectors.pods[0].names = "k3-brokers-0,k3-brokers-1")),
      `spec.selectors.pods[].names in ${ns.kafka}: expected at most 1 broker pod(s) at once (the cluster's fault tolerance); found k3-brokers-0,k3-brokers-1`,
    ],
    [
      "network latency on a broker",
      edit(latency, (e) => (e.spec.selectors.pods = [{ namespace: ns.kafka, names: "k3-brokers-0" }])),
      `spec.selectors.pods[].namespace: expected ${ns.apps} for pod-network-latency (worker pods only)`,
    ],
    // ---- the runner and the experiment pod
    [
      "a runner image",
      edit(loader, (e) => (e.spec.components = { runner: { image: "attacker/runner:latest" } })),
      `spec.components.runner.image: expected ${limits.chaosRunnerImage} or absent`,
    ],
    [
      "runner labels",
      edit(loader, (e) => (e.spec.components = { runner: { runnerLabels: { "app.kubernetes.io/name": "queue-manager" } } })),
      `${RUNNER}runnerLabels`,
    ],
    [
      "runner resources that are not empty",
      edit(loader, (e) => (e.spec.components = { runner: { resources: { requests: { cpu: "64" } } } })),
      `${RUNNER}resources`,
    ],
    [
      "a sidecar",
      edit(loader, (e) => (e.spec.components = { sidecar: [{ image: "attacker/sidecar:latest", envFrom: [] }] })),
      "spec.components: expected only runner; found sidecar",
    ],
    ...(["command", "args", "secrets", "configMaps", "nodeSelector", "imagePullSecrets"] as const).map(
      (key): [string, () => any, string] => [
        `a runner ${key}`,
        edit(
          loader,
          (e) =>
            (e.spec.components = {
              runner: {
                [key]:
                  key === "secrets"
                    ? [{ name: "kafka-credentials", mountPath: "/s" }]
                    : key === "configMaps"
                      ? [{ name: "kube-root-ca.crt", mountPath: "/c" }]
                      : key === "nodeSelector"
                        ? { "node-role.kubernetes.io/control-plane": "" }
                        : key === "imagePullSecrets"
                          ? [{ name: "regcred" }]
                          : ["sh", "-c", "kubectl delete pod -n stf -l app.kubernetes.io/name=queue-manager"],
              },
            }),
        ),
        `${RUNNER}${key}`,
      ],
    ),
    [
      "an experiment image",
      edit(loader, (e) => (components(e).experimentImage = "attacker/go-runner:latest")),
      `${COMPONENTS}experimentImage`,
    ],
    [
      "secrets mounted into the experiment",
      edit(loader, (e) => (components(e).secrets = [{ name: "kafka-credentials", mountPath: "/s" }])),
      `${COMPONENTS}secrets`,
    ],
    [
      "tolerations the helper inherits",
      edit(latency, (e) => (components(e).tolerations = [{ operator: "Exists" }])),
      `${COMPONENTS}tolerations`,
    ],
    [
      "stretched status check timeouts",
      edit(loader, (e) => (components(e).statusCheckTimeouts = { delay: 2, timeout: 86400 })),
      `${COMPONENTS}statusCheckTimeouts`,
    ],
    [
      "experiment image pull secrets (not in the CRD schema)",
      edit(loader, (e) => (components(e).experimentImagePullSecrets = [{ name: "regcred" }])),
      `${COMPONENTS}experimentImagePullSecrets`,
    ],
    [
      "experiment resources (not in the CRD schema)",
      edit(latency, (e) => (components(e).resources = { limits: { cpu: "64" } })),
      `${COMPONENTS}resources`,
    ],
    // ---- env
    [
      "an env value from a Secret",
      edit(loader, (e) => env(e).push({ name: "FORCE", valueFrom: { secretKeyRef: { name: "kafka-credentials", key: "password" } } })),
      `${ENV}: expected literal values; found valueFrom in FORCE`,
    ],
    ...overrides.map(([name, value]): [string, () => any, string] => [
      `${name} on pod-delete`,
      edit(loader, (e) => setEnv(e, name, value)),
      `${podDeleteEnv}${name}`,
    ]),
    ...[...overrides, ...helperOverrides].map(([name, value]): [string, () => any, string] => [
      `${name} on network latency`,
      edit(latency, (e) => setEnv(e, name, value)),
      `${latencyEnv}${name}`,
    ]),
    [
      "every broker at once (SEQUENCE parallel)",
      edit(broker, (e) => setEnv(e, "SEQUENCE", "parallel")),
      `${ENV} SEQUENCE: expected "serial"`,
    ],
    [
      "no SEQUENCE (litmus-go's default is parallel)",
      edit(broker, (e) => (components(e).env = env(e).filter((v) => v.name !== "SEQUENCE"))),
      `${ENV}: expected SEQUENCE ("serial") for pod-delete; found none`,
    ],
    [
      "a duration above the cap",
      edit(loader, (e) => setEnv(e, "TOTAL_CHAOS_DURATION", String(limits.maxDurationSeconds + 1))),
      `${ENV} TOTAL_CHAOS_DURATION: expected whole seconds, at most ${limits.maxDurationSeconds}`,
    ],
    ["a graceful delete instead of FORCE", edit(loader, (e) => setEnv(e, "FORCE", "false")), `${ENV} FORCE: expected "true"`],
    [
      "latency on the whole interface (no DESTINATION_HOSTS)",
      edit(latency, (e) => (components(e).env = env(e).filter((v) => v.name !== "DESTINATION_HOSTS"))),
      `${ENV}: expected DESTINATION_HOSTS (${JSON.stringify(limits.kafkaHosts.join(","))}) for pod-network-latency; found none`,
    ],
    [
      "latency towards other hosts",
      edit(latency, (e) => setEnv(e, "DESTINATION_HOSTS", `${limits.kafkaHosts.join(",")},kubernetes.default`)),
      `${ENV} DESTINATION_HOSTS: expected ${JSON.stringify(limits.kafkaHosts.join(","))}`,
    ],
    [
      "a latency above 10 s",
      edit(latency, (e) => setEnv(e, "NETWORK_LATENCY", "60000")),
      `${ENV} NETWORK_LATENCY: expected whole milliseconds, at most 10000`,
    ],
    // ---- probes
    [
      "a cmdProbe (a privileged pod of any image)",
      edit(loader, (e) =>
        e.spec.experiments[0].spec.probe.push({
          name: "x",
          type: "cmdProbe",
          mode: "SOT",
          "cmdProbe/inputs": {
            command: "id",
            comparator: { type: "int", criteria: "==", value: "0" },
            source: { image: "alpine", privileged: true },
          },
          runProperties: { probeTimeout: "5s", interval: "5s" },
        }),
      ),
      "spec.experiments[0].spec.probe[].type: expected promProbe or k8sProbe; found cmdProbe",
    ],
    [
      "an httpProbe (a call out)",
      edit(loader, (e) =>
        e.spec.experiments[0].spec.probe.push({
          name: "x",
          type: "httpProbe",
          mode: "SOT",
          "httpProbe/inputs": { url: "http://example.com", method: { get: { criteria: "==", responseCode: "200" } } },
          runProperties: { probeTimeout: "5s", interval: "5s" },
        }),
      ),
      "spec.experiments[0].spec.probe[].type: expected promProbe or k8sProbe; found httpProbe",
    ],
    [
      "cmdProbe inputs under a k8sProbe's type",
      edit(
        loader,
        (e) =>
          (e.spec.experiments[0].spec.probe[1]["cmdProbe/inputs"] = {
            command: "id",
            comparator: { type: "int", criteria: "==", value: "0" },
          }),
      ),
      "spec.experiments[0].spec.probe[]: expected only name, type, mode, runProperties, k8sProbe/inputs, promProbe/inputs; found cmdProbe/inputs",
    ],
    ...(["create", "delete"] as const).map((operation): [string, () => any, string] => [
      `a k8sProbe that may ${operation}`,
      edit(loader, (e) => (e.spec.experiments[0].spec.probe[1]["k8sProbe/inputs"].operation = operation)),
      `spec.experiments[0].spec.probe[] k8sProbe/inputs: expected operation present or absent, in namespace ${ns.apps}`,
    ]),
    [
      "a k8sProbe elsewhere",
      edit(loader, (e) => (e.spec.experiments[0].spec.probe[1]["k8sProbe/inputs"].namespace = "kube-system")),
      `spec.experiments[0].spec.probe[] k8sProbe/inputs: expected operation present or absent, in namespace ${ns.apps}`,
    ],
    [
      "a promProbe to another endpoint",
      edit(loader, (e) => (e.spec.experiments[0].spec.probe[0]["promProbe/inputs"].endpoint = "http://attacker.example:9090")),
      `spec.experiments[0].spec.probe[] promProbe/inputs.endpoint: expected ${limits.prometheusAddress}`,
    ],
    ...(
      [
        [
          "a promProbe query that ends litmus-go's shell quote and runs a command",
          'vector(0)" ; kubectl delete pods --all -n kafka ; echo "',
        ],
        ["a promProbe query with a command substitution", "vector($(id -u))"],
        ["a promProbe query with backquotes", "vector(`id -u`)"],
        ["a promProbe query with a backslash", "up{job=~'a\\.b'}"],
      ] as const
    ).map(([what, query]): [string, () => any, string] => [
      what,
      edit(loader, (e) => (e.spec.experiments[0].spec.probe[0]["promProbe/inputs"].query = query)),
      PROM_INPUTS,
    ]),
    [
      "a promProbe queryPath (read through $(cat <path>) in the shell line)",
      edit(loader, (e) => (e.spec.experiments[0].spec.probe[0]["promProbe/inputs"].queryPath = "/etc/hostname)$(id")),
      PROM_INPUTS,
    ],
  ];
}
