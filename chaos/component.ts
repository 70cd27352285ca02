import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { declareGuard } from "../infra/kit/admission";
import { chartImage } from "../infra/kit/images";
import type { ChaosConfig } from "./config";
import { WORKER_POD_PATTERN, brokerPodPattern, engineGuard } from "./guard";
import { chaosDeleteGuard } from "./delete-guard";
import { litmusOperatorGuard } from "./operator-guard";
import { chaosPodGuard } from "./pod-guard";
import { type EngineContext, FAULTS, brokerFailureEngine, chaosExperiment, experimentRbac, scheduleObjects } from "./spec";

export interface ChaosArgs {
  /** The area's settings (`streamforge:chaos`): Litmus, the scenarios, their schedule and probes. */
  readonly chaos: ChaosConfig;
  /** Where the engines act and what their probes read. */
  readonly context: EngineContext & {
    /** Where the workers and the operator run: the worker faults' targets. */
    readonly appsNamespace: string;
    /** The Kafka addresses the network-latency scenario slows (DESTINATION_HOSTS), as the launcher sets them. */
    readonly kafkaHosts: readonly string[];
    /** The stack's KafkaNodePools: their node IDs name the broker pods. */
    readonly kafkaNodePools: readonly { readonly name: string; readonly replicas: number }[];
  };
}

/** Where the faults act: the workers in the apps namespace; Kafka's namespace only when the broker scenario is on. */
export function rbacNamespaces({ chaos, context }: ChaosArgs) {
  return {
    chaos: chaos.namespace,
    apps: context.appsNamespace,
    kafka: chaos.scenarios.brokerFailure?.enabled ? context.kafkaNamespace : undefined,
  };
}

/** The chart's values: the operator watches only the release namespace, the chaos namespace; runner pinned. */
export function litmusChartValues(chaos: ChaosConfig) {
  // The chart renders `repository:tag` (litmus-helm litmus-core-3.28.1 templates/deployment.yaml
  // L27, L34-35); a digest rides in the tag. The config only accepts images with a tag.
  return {
    // namespaced: WATCH_NAMESPACE is the release's namespace (deployment.yaml L36-40) and the chart
    // grants a Role there instead of a ClusterRole (namespaced-role.yaml; clusterrole.yaml L1).
    // chaos-operator 3.18.0 main.go L75-95 then caches and reconciles that one namespace only.
    operatorMode: "namespaced",
    operator: { image: chartImage(chaos.operator.image) },
    runner: { image: chartImage(chaos.chaosRunnerImage) },
    policies: { monitoring: { disabled: true } },
  };
}

/** The guard's limits are the stack's own: its longest scenario, its broker scenario's width (0 without one). */
/** The chaos pod guard of a stack's chaos settings. */
export function podGuardFor(chaos: ChaosConfig) {
  return chaosPodGuard({
    chaosNamespace: chaos.namespace,
    runnerImage: chaos.runnerImage,
    socketPath: chaos.socketPath,
    containerRuntime: chaos.containerRuntime,
    namePrefix: `streamforge-${chaos.namespace}`,
  });
}

/** What the fault accounts may delete: the scenarios' targets and the latency helpers. */
export function deleteGuardFor(args: ChaosArgs) {
  const { chaos, context } = args;
  return chaosDeleteGuard({
    chaosNamespace: chaos.namespace,
    appsNamespace: context.appsNamespace,
    kafkaNamespace: rbacNamespaces(args).kafka,
    workerPodPattern: WORKER_POD_PATTERN,
    kafkaPodPattern: brokerPodPattern(context.clusterName, chaos.scenarios.brokerFailure?.pool ?? "brokers"),
    namePrefix: `streamforge-${chaos.namespace}`,
  });
}

export function guardFor({ chaos, context }: ChaosArgs) {
  const { loaderPodDelete, arangoConnectorPodDelete, networkLatency, brokerFailure } = chaos.scenarios;
  const enabled = [loaderPodDelete, arangoConnectorPodDelete, networkLatency, brokerFailure].filter((s) => s?.enabled);
  return engineGuard({
    chaosNamespace: chaos.namespace,
    appsNamespace: context.appsNamespace,
    kafkaNamespace: context.kafkaNamespace,
    maxDurationSeconds: Math.max(1, ...enabled.map((s) => s!.durationSeconds)),
    maxBrokersAtOnce: brokerFailure?.enabled ? brokerFailure.brokersAtOnce : 0,
    workerPodPattern: WORKER_POD_PATTERN,
    kafkaPodPattern: brokerPodPattern(context.clusterName, brokerFailure?.pool ?? "brokers"),
    kafkaHosts: context.kafkaHosts,
    prometheusAddress: chaos.prometheusAddress,
    chaosRunnerImage: chaos.chaosRunnerImage,
    // Where Litmus acts: with our install, or one said to watch it only, the chaos namespace; with
    // an operator installed elsewhere in an unknown mode, every namespace.
    bindTo: chaos.operator.install || chaos.operator.watchNamespace !== undefined ? [chaos.namespace] : "all",
    namePrefix: `streamforge-${chaos.namespace}`,
  });
}

/**
 * The release name: the chart names the operator's ServiceAccount after it (litmus-helm
 * litmus-core-3.28.1 templates/_helpers.tpl `litmus.fullname`: the release name when it contains
 * the chart's; templates/deployment.yaml L21).
 */
export const LITMUS_RELEASE = "litmus-core";

/**
 * The Litmus chaos operator (litmus-core chart, pinned), the experiments at the pinned runner image,
 * their least-privilege RBAC, and the engines that can be declared ahead of a run, created stopped.
 */
export class ChaosExperiments extends pulumi.ComponentResource {
  /** Namespace of the engines, their runners and experiment pods. */
  readonly namespace: string;
  /** The ChaosEngines declared ahead of a run, created stopped. */
  readonly engines: readonly string[];
  /** When the declared engines start on their own ("<cron> (<time zone>)", ", suspended" when it is); "" without a schedule. */
  readonly schedule: string;

  constructor(name: string, args: ChaosArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:chaos:ChaosExperiments", name, {}, opts);
    const { chaos, context } = args;
    const child = { parent: this };
    const release = chaos.operator.install
      ? [
          new k8s.helm.v3.Release(
            `${name}-litmus-core`,
            {
              name: LITMUS_RELEASE,
              chart: "litmus-core",
              version: chaos.operator.chartVersion,
              repositoryOpts: { repo: "https://litmuschaos.github.io/litmus-helm/" },
              namespace: chaos.namespace,
              values: litmusChartValues(chaos),
              atomic: true,
              timeout: 600,
            },
            child,
          ),
        ]
      : [];
    // Admission refuses any engine in the chaos namespace that breaks the stack's limits, whoever
    // makes it (Pulumi, the launcher, a person); in place before any engine is declared.
    const broker = chaos.scenarios.brokerFailure;
    const guard = guardFor(args);
    const guardBinding = declareGuard(this, guard, `${name}-guard`);
    // The fault accounts may create, in the privileged chaos namespace, only the experiment Job and the latency helper.
    declareGuard(this, podGuardFor(chaos), `${name}-pod-guard`);
    // Litmus' operator, installed here with the chart's wide Role, may write only what it does.
    if (chaos.operator.install) {
      const operatorGuard = litmusOperatorGuard({
        chaosNamespace: chaos.namespace,
        operatorServiceAccount: LITMUS_RELEASE,
        chaosRunnerImage: chaos.chaosRunnerImage,
        namePrefix: `streamforge-${chaos.namespace}`,
      });
      declareGuard(this, operatorGuard, `${name}-operator-guard`);
    }
    // ...and delete, with their tokens, only what the engines may target (RBAC cannot name those pods).
    declareGuard(this, deleteGuardFor(args), `${name}-delete-guard`);
    const experiments = FAULTS.map(
      (fault) =>
        new k8s.apiextensions.CustomResource(`${name}-experiment-${fault}`, chaosExperiment(fault, chaos), {
          parent: this,
          dependsOn: release,
        }),
    );
    for (const fault of FAULTS) {
      const rbac = experimentRbac(fault, rbacNamespaces(args));
      const sa = new k8s.core.v1.ServiceAccount(`${name}-sa-${fault}`, rbac.serviceAccount, child);
      for (const { role, binding } of rbac.roles) {
        const r = new k8s.rbac.v1.Role(`${name}-role-${fault}-${role.metadata.namespace}`, role, child);
        new k8s.rbac.v1.RoleBinding(`${name}-binding-${fault}-${role.metadata.namespace}`, binding, { parent: this, dependsOn: [r, sa] });
      }
    }
    const engines = broker?.enabled ? [brokerFailureEngine(broker, context, context.kafkaNodePools)] : [];
    const declared = engines.map(
      (e) =>
        new k8s.apiextensions.CustomResource(`${name}-engine-${e.metadata.name}`, e, {
          parent: this,
          dependsOn: [...experiments, guardBinding],
        }),
    );
    if (chaos.schedule) {
      const s = scheduleObjects(
        chaos.schedule,
        chaos.namespace,
        engines.map((e) => e.metadata.name),
      );
      const sa = new k8s.core.v1.ServiceAccount(`${name}-scheduler`, s.serviceAccount, child);
      const role = new k8s.rbac.v1.Role(`${name}-scheduler`, s.role, child);
      const binding = new k8s.rbac.v1.RoleBinding(`${name}-scheduler`, s.binding, { parent: this, dependsOn: [sa, role] });
      new k8s.batch.v1.CronJob(`${name}-scheduler`, s.cronJob, { parent: this, dependsOn: [binding, ...declared] });
    }
    this.namespace = chaos.namespace;
    this.engines = engines.map((e) => e.metadata.name);
    this.schedule = chaos.schedule
      ? `${chaos.schedule.cron} (${chaos.schedule.timeZone})${chaos.schedule.suspend ? ", suspended" : ""}`
      : "";
    this.registerOutputs({ namespace: this.namespace, engines: this.engines, schedule: this.schedule });
  }
}
