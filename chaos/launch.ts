/**
 * Starts a worker chaos scenario now: resolves the pods it may hit at this moment
 * (`selectWorkerPods`), creates a fresh ChaosEngine from the scenario's template with those names,
 * active, and prints how to stop it. The I/O edge of the worker targeting in spec.ts.
 *
 *   npm run chaos -- --stack dev --scenario loader-pod-delete [--dry-run]
 */
import { parseArgs } from "node:util";
import { kubeClient } from "../infra/kit/kube-client";
import { readCluster } from "../infra/kit/provider";
import { parseCommittedStack } from "../infra/render/render";
import type { ChaosConfig } from "./config";
import {
  type PodInfo,
  WORKER_TARGETS,
  type WorkerScenario,
  kafkaHosts,
  selectWorkerPods,
  workerNetworkLatencyEngine,
  workerPodDeleteEngine,
} from "./spec";

export interface LaunchTarget {
  readonly chaos: ChaosConfig;
  readonly appsNamespace: string;
  readonly kafkaNamespace: string;
  readonly clusterName: string;
  readonly kafkaHosts: readonly string[];
}

/** The minimal Kubernetes access a launch needs (the real one is @kubernetes/client-node; tests may pass another). */
export interface LaunchKube {
  listPods(namespace: string): Promise<PodInfo[]>;
  createEngine(engine: { metadata: { name: string; namespace: string } }): Promise<void>;
}

/** The engine a run of `scenario` would create now, or an error saying why there is none. Pure over the pod listing. */
export function engineFor(scenario: WorkerScenario, target: LaunchTarget, pods: readonly PodInfo[], now: Date) {
  const { chaos } = target;
  const settings =
    scenario === "loader-pod-delete"
      ? chaos.scenarios.loaderPodDelete
      : scenario === "arango-connector-pod-delete"
        ? chaos.scenarios.arangoConnectorPodDelete
        : chaos.scenarios.networkLatency;
  if (!settings.enabled) throw new Error(`Scenario ${scenario} is turned off in streamforge:chaos.scenarios`);
  const names = selectWorkerPods(scenario, pods, target.appsNamespace, settings.podsAffectedPercent);
  if (names.length === 0)
    throw new Error(
      `No Running pod of ${scenario}'s Jobs (${String(WORKER_TARGETS[scenario])}) in ${target.appsNamespace}: nothing to hit, nothing started`,
    );
  const ctx = {
    chaosNamespace: chaos.namespace,
    kafkaNamespace: target.kafkaNamespace,
    clusterName: target.clusterName,
    prometheusAddress: chaos.prometheusAddress,
    appsNamespace: target.appsNamespace,
  };
  const engine =
    scenario === "worker-network-latency"
      ? workerNetworkLatencyEngine(chaos.scenarios.networkLatency, { ...ctx, kafkaHosts: target.kafkaHosts }, names)
      : workerPodDeleteEngine(
          scenario,
          settings as ChaosConfig["scenarios"]["loaderPodDelete"],
          ctx,
          names,
          names.map((n) => pods.find((p) => p.name === n)!.ownerJob!),
        );
  const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return { ...engine, metadata: { ...engine.metadata, name: `${scenario}-${stamp}` }, spec: { ...engine.spec, engineState: "active" } };
}

/** Resolves the targets on the cluster and creates the engine; returns it. */
export async function launch(kube: LaunchKube, scenario: WorkerScenario, target: LaunchTarget, now = new Date()) {
  const engine = engineFor(scenario, target, await kube.listPods(target.appsNamespace), now);
  await kube.createEngine(engine);
  return engine;
}

/** @kubernetes/client-node behind `LaunchKube`. */
export async function clientKube(kubeconfig: string | undefined, context: string | undefined): Promise<LaunchKube> {
  const { k8s, config } = await kubeClient(kubeconfig, context);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  return {
    async listPods(namespace) {
      const list = await core.listNamespacedPod({ namespace });
      return list.items.map((p) => ({
        name: p.metadata?.name ?? "",
        namespace: p.metadata?.namespace ?? namespace,
        phase: p.status?.phase ?? "Unknown",
        labels: p.metadata?.labels ?? {},
        ownerJob: p.metadata?.ownerReferences?.find((o) => o.kind === "Job")?.name,
        deleting: p.metadata?.deletionTimestamp !== undefined,
      }));
    },
    async createEngine(engine) {
      await custom.createNamespacedCustomObject({
        group: "litmuschaos.io",
        version: "v1alpha1",
        namespace: engine.metadata.namespace,
        plural: "chaosengines",
        body: engine,
      });
    },
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { stack: { type: "string" }, scenario: { type: "string" }, "dry-run": { type: "boolean" } } });
  const scenarios = Object.keys(WORKER_TARGETS);
  if (!values.stack || !values.scenario || !scenarios.includes(values.scenario)) {
    console.error(`usage: npm run chaos -- --stack <stack> --scenario <${scenarios.join("|")}> [--dry-run]`);
    return 2;
  }
  const config = parseCommittedStack(values.stack);
  if (!config.chaos?.enabled) {
    console.error(`Stack ${values.stack} runs no chaos: streamforge:chaos.enabled is not true`);
    return 2;
  }
  const target: LaunchTarget = {
    chaos: config.chaos,
    appsNamespace: config.apps.namespace,
    kafkaNamespace: config.kafka.namespace,
    clusterName: config.kafka.clusterName,
    kafkaHosts: kafkaHosts(config.kafka),
  };
  const cluster = readCluster(config.cluster!);
  const kube = await clientKube(cluster.kubeconfigPath, cluster.context);
  const scenario = values.scenario as WorkerScenario;
  const engine = values["dry-run"]
    ? engineFor(scenario, target, await kube.listPods(target.appsNamespace), new Date())
    : await launch(kube, scenario, target);
  console.log(JSON.stringify(engine, null, 2));
  console.error(
    `${values["dry-run"] ? "would start" : "started"} ${engine.metadata.name} in ${engine.metadata.namespace}; abort with: ` +
      `kubectl patch chaosengine ${engine.metadata.name} -n ${engine.metadata.namespace} --type merge -p '{"spec":{"engineState":"stop"}}'`,
  );
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
}
