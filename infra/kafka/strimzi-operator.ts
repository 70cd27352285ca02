import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { type ThirdPartyImage, withDigest } from "../kit/images";
import type { StrimziConfig } from "./config";
import { upstreamCrdPatch } from "../kit/upstream-crd";
import { STRIMZI_CRDS, STRIMZI_CRD_SHA256, strimziCrdUrl } from "./strimzi-crds";

export interface StrimziOperatorArgs {
  /** The chart's version, namespace and settings (`streamforge:strimzi`). */
  readonly strimzi: StrimziConfig;
  /** Namespaces holding Strimzi resources: the Kafka cluster's and the users' (the entity operator needs RBAC there). */
  readonly watchNamespaces: readonly string[];
  /**
   * Offline (render, unit tests): the CRDs are not fetched; each patch names only its file and
   * pinned sha256, which `up` and `preview` fetch and check.
   */
  readonly offline?: boolean;
}

/**
 * Strimzi's operands under the restricted Pod Security standard. Strimzi 1.2.0 defaults to its
 * Baseline provider, which gives the operands' containers no securityContext
 * (cluster-operator/src/main/java/io/strimzi/operator/cluster/ClusterOperatorConfig.java L216;
 * api/src/main/java/io/strimzi/plugin/security/profiles/PodSecurityProvider.java L457-471), so a
 * `restricted` namespace refuses the brokers. `restricted` (ClusterOperatorConfig.java L233, L238)
 * selects RestrictedPodSecurityProvider, which gives every operand container
 * allowPrivilegeEscalation false, runAsNonRoot, RuntimeDefault seccomp and drop ALL
 * (RestrictedPodSecurityProvider.java L24-41); the images run as USER 1001
 * (docker-images/kafka-based/kafka/Dockerfile L156). The chart has no value for it: `extraEnvs`
 * (helm-charts/helm3/strimzi-kafka-operator/values.yaml L31-36) reaches the operator's env
 * (templates/060-Deployment-strimzi-cluster-operator.yaml L187-189). The operator's own pod passes
 * restricted with the chart's defaults (values.yaml L51-62). All at tag 1.2.0.
 */
export const STRIMZI_RESTRICTED_OPERANDS = { name: "STRIMZI_POD_SECURITY_PROVIDER_CLASS", value: "restricted" } as const;

/**
 * Strimzi's images at the pinned release, as its chart names them: registry `quay.io`, repository
 * `strimzi`, tag the release (helm-charts/helm3/strimzi-kafka-operator/values.yaml L11-13); the
 * operator image runs the cluster, topic and user operators and the brokers' init container
 * (values.yaml `topicOperator`, `userOperator`, `kafkaInit`: name `operator`), and each Kafka
 * version has `kafka:<release>-kafka-<version>` (templates/_kafka_image_map.tpl). All at tag 1.2.0.
 */
export function strimziImages(strimzi: StrimziConfig, kafkaVersion: string): { operator: ThirdPartyImage; kafka: ThirdPartyImage } {
  const base = "quay.io/strimzi";
  return {
    operator: {
      runs: "Strimzi's cluster, topic and user operators, the brokers' init container",
      ref: withDigest(`${base}/operator:${strimzi.chartVersion}`, strimzi.digests.operator),
      digestKey: "streamforge:strimzi.digests.operator",
    },
    kafka: {
      runs: `the Kafka ${kafkaVersion} brokers, controllers and kafka_exporter`,
      ref: withDigest(`${base}/kafka:${strimzi.chartVersion}-kafka-${kafkaVersion}`, strimzi.digests.kafka[kafkaVersion]),
      digestKey: `streamforge:strimzi.digests.kafka["${kafkaVersion}"]`,
    },
  };
}

/** The brokers' image for `spec.kafka.image` where its digest is pinned; undefined leaves it to Strimzi's version map. */
export function pinnedKafkaImage(strimzi: StrimziConfig, kafkaVersion: string): string | undefined {
  return strimzi.digests.kafka[kafkaVersion] ? strimziImages(strimzi, kafkaVersion).kafka.ref : undefined;
}

/**
 * The chart's image values for a pinned operator digest: its template puts `@digest` in place of
 * `:tag` wherever an image has `digest` (templates/_helpers.tpl "strimzi.image", tag 1.2.0), for
 * the operator's own container and the three images it hands its operands.
 */
function operatorDigestValues(digest: string | undefined): Record<string, unknown> {
  if (!digest) return {};
  const pinned = { image: { digest } };
  return { image: { digest }, topicOperator: pinned, userOperator: pinned, kafkaInit: pinned };
}

/** Helm values of the cluster operator: watch only what the platform needs. */
export function strimziChartValues(args: StrimziOperatorArgs): Record<string, unknown> {
  return {
    ...operatorDigestValues(args.strimzi.digests.operator),
    // The chart watches its own namespace already; listing it again makes duplicate RoleBindings.
    watchNamespaces: [...new Set(args.watchNamespaces)].filter((ns) => ns !== args.strimzi.namespace).sort(),
    watchAnyNamespace: false,
    generateNetworkPolicy: true,
    extraEnvs: [STRIMZI_RESTRICTED_OPERANDS],
    resources: { requests: { cpu: "200m", memory: "384Mi" }, limits: { cpu: "1", memory: "384Mi" } },
  };
}

/**
 * The Strimzi cluster operator, installed from its OCI Helm chart at a pinned version, after the
 * release's CRDs (./strimzi-crds.ts: fetched, checked against their pinned sums, applied first).
 */
export class StrimziOperator extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  /** The release's CRDs as applied: one server-side patch each, never deleted by the program. */
  readonly crds: k8s.apiextensions.v1.CustomResourceDefinitionPatch[];
  /** The namespace the cluster operator runs in. */
  readonly namespace: string;

  constructor(name: string, args: StrimziOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:kafka:StrimziOperator", name, {}, opts);
    const release = args.strimzi.chartVersion;
    // The config accepts only a release whose sums are pinned (config.ts).
    const sums = STRIMZI_CRD_SHA256[release]!;
    this.crds = STRIMZI_CRDS.map(({ file, name: crd }) =>
      upstreamCrdPatch(`${name}-crd-${crd}`, { name: crd, url: strimziCrdUrl(release, file), sha256: sums[file] }, args.offline ?? false, {
        parent: this,
      }),
    );
    this.release = new k8s.helm.v3.Release(
      `${name}-chart`,
      {
        name: "strimzi-cluster-operator",
        chart: args.strimzi.chart,
        version: release,
        namespace: args.strimzi.namespace,
        values: strimziChartValues(args),
        // The CRDs above, not the chart's (which `helm upgrade` would never update); wait until
        // the operator Deployment is ready.
        skipCrds: true,
        atomic: true,
        timeout: 600,
      },
      { parent: this, dependsOn: this.crds },
    );
    this.namespace = args.strimzi.namespace;
    this.registerOutputs({ release: this.release, crds: this.crds, namespace: this.namespace });
  }
}
