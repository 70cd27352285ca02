import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { declareGuard } from "../infra/kit/admission";
import { upstreamCrdPatch } from "../infra/kit/upstream-crd";
import type { ChaosConfig } from "./config";
import { WORKER_POD_PATTERN, brokerPodPattern, engineGuard } from "./guard";
import { chaosDeleteGuard } from "./delete-guard";
import { LITMUS_CRDS, LITMUS_CRD_SHA256, LITMUS_OPERATOR, litmusCrdUrl, litmusOperatorObjects } from "./litmus-operator";
import { type RunnerTargets, litmusOperatorGuard } from "./operator-guard";
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
  /**
   * Offline (render, unit tests): Litmus' CRDs are not fetched; each patch holds only the name and
   * the annotation naming the file and its pinned sha256, which `up` and `preview` fetch and check.
   */
  readonly offline?: boolean;
}

/** Where the faults act: the workers in the apps namespace; Kafka's namespace only when the broker scenario is on. */
export function rbacNamespaces({ chaos, context }: ChaosArgs) {
  return {
    chaos: chaos.namespace,
    apps: context.appsNamespace,
    kafka: chaos.scenarios.brokerFailure?.enabled ? context.kafkaNamespace : undefined,
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
    priorityClasses: chaos.priorityClasses,
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

/** What the scenarios may target: the workers in the apps namespace, brokers of the pool the broker scenario names. */
function scenarioTargets({ chaos, context }: ChaosArgs): RunnerTargets[] {
  const broker = chaos.scenarios.brokerFailure;
  return [
    { namespace: context.appsNamespace, podPattern: WORKER_POD_PATTERN },
    ...(broker?.enabled ? [{ namespace: context.kafkaNamespace, podPattern: brokerPodPattern(context.clusterName, broker.pool) }] : []),
  ];
}

/** The guard on Litmus' operator's token, where the stack installs it. */
export function operatorGuardFor(args: ChaosArgs) {
  return litmusOperatorGuard({
    chaosNamespace: args.chaos.namespace,
    operatorServiceAccount: LITMUS_OPERATOR,
    chaosRunnerImage: args.chaos.chaosRunnerImage,
    targets: scenarioTargets(args),
    priorityClasses: args.chaos.priorityClasses,
    namePrefix: `streamforge-${args.chaos.namespace}`,
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
 * The Litmus chaos operator (its CRDs from the litmus-core chart release, pinned; the operator with
 * the Role of what it does: ./litmus-operator.ts), the experiments at the pinned runner image, their
 * least-privilege RBAC, and the engines that can be declared ahead of a run, created stopped.
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
    // Admission refuses any engine in the chaos namespace that breaks the stack's limits, whoever
    // makes it (Pulumi, the launcher, a person); in place before any engine is declared.
    const broker = chaos.scenarios.brokerFailure;
    const guard = guardFor(args);
    const guardBinding = declareGuard(this, guard, `${name}-guard`);
    // The fault accounts may create, in the privileged chaos namespace, only the experiment Job and the latency helper.
    declareGuard(this, podGuardFor(chaos), `${name}-pod-guard`);
    // Litmus' operator, installed here, creates pods in the privileged namespace: only its runner
    // pod, in place before the operator starts.
    const operator = chaos.operator.install
      ? this.litmusOperator(name, args, declareGuard(this, operatorGuardFor(args), `${name}-operator-guard`))
      : [];
    // ...and delete, with their tokens, only what the engines may target (RBAC cannot name those pods).
    declareGuard(this, deleteGuardFor(args), `${name}-delete-guard`);
    const experiments = FAULTS.map(
      (fault) =>
        new k8s.apiextensions.CustomResource(`${name}-experiment-${fault}`, chaosExperiment(fault, chaos), {
          parent: this,
          dependsOn: operator,
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

  /** Litmus' CRDs (applied first, never deleted) and its operator, watching the chaos namespace only. */
  private litmusOperator(name: string, { chaos, offline }: ChaosArgs, guard: pulumi.Resource): pulumi.Resource[] {
    // The config accepts only a chart release whose sums are pinned (config.ts).
    const sums = LITMUS_CRD_SHA256[chaos.operator.chartVersion]!;
    const crds = LITMUS_CRDS.map((crd) =>
      upstreamCrdPatch(
        `${name}-crd-${crd}`,
        { name: `${crd}s.litmuschaos.io`, url: litmusCrdUrl(chaos.operator.chartVersion, crd), sha256: sums[crd] },
        offline ?? false,
        { parent: this },
      ),
    );
    const o = litmusOperatorObjects(chaos);
    const sa = new k8s.core.v1.ServiceAccount(`${name}-litmus-operator`, o.serviceAccount, { parent: this });
    const role = new k8s.rbac.v1.Role(`${name}-litmus-operator`, o.role, { parent: this });
    const binding = new k8s.rbac.v1.RoleBinding(`${name}-litmus-operator`, o.binding, { parent: this, dependsOn: [sa, role] });
    const deployment = new k8s.apps.v1.Deployment(`${name}-litmus-operator`, o.deployment, {
      parent: this,
      dependsOn: [...crds, binding, guard],
    });
    return [...crds, deployment];
  }
}
