/**
 * Changes Kafka or Strimzi cannot make, refused before anything is declared. The API server
 * accepts every one of them (Strimzi's CRDs carry no immutability rules); Strimzi then refuses,
 * ignores or half-applies them at reconcile time, where `pulumi up` cannot see it. Each rule says
 * what Strimzi 1.2.0 does, where (strimzi-kafka-operator at tag 1.2.0), and the supported
 * procedure from its documentation. docs/data-safety.md lists them in one table. Pure functions.
 */
import { type ConfigProblem, problem } from "../kit/config-kit";
import { type TopicPlan, planTopics, planUsers } from "./catalogue";
import { ignoredUsersOf, nodePoolSpec } from "./cluster-spec";
import type { CatalogueConfig, KafkaConfig, RetireConfig, StrimziConfig } from "./config";
import {
  type LiveKafka,
  type LiveObject,
  brokerConfigOf,
  CATALOGUE_OWNER_ANNOTATION,
  departureProblems,
  STACK_ANNOTATION,
  comparedTopics,
  liveTopicName,
  releasedUserProblems,
  staleConfirmationProblems,
} from "./data-safety";
import { type Impact, kafkaImpacts } from "./impact";
import { kafkaTopicSpec, kafkaUserSpec } from "./strimzi-entities";
import { truncationProblems } from "./truncation";

/** One change Strimzi cannot make: what it does instead, its source, and what to do. */
export interface UnsupportedChange {
  readonly change: string;
  readonly strimzi: string;
  readonly source: string;
  readonly procedure: string;
}

export const UNSUPPORTED_CHANGES = {
  partitionsDecreased: {
    change: "a topic's partitions decreased",
    strimzi: 'the Topic Operator keeps the partitions and marks the KafkaTopic NotSupported ("Decreasing partitions not supported")',
    source: "topic-operator/src/main/java/io/strimzi/operator/topic/BatchingTopicController.java:683-697",
    procedure: "Kafka cannot remove partitions: create a new topic with fewer partitions and move producers and consumers to it",
  },
  replicasChanged: {
    change: "a topic's replicas changed",
    strimzi:
      'without Cruise Control the Topic Operator marks the KafkaTopic NotSupported ("Replication factor change not supported"); this cluster runs no Cruise Control',
    source: "topic-operator/src/main/java/io/strimzi/operator/topic/BatchingTopicController.java:740-790",
    procedure:
      "reassign the partitions with kafka-reassign-partitions (documentation/modules/configuring/proc-changing-topic-replicas.adoc), then set the new count",
  },
  topicNameChanged: {
    change: "a KafkaTopic's topic name changed",
    strimzi: 'the Topic Operator stops reconciling the topic ("Changing spec.topicName is not supported") and a later deletion hangs',
    source: "topic-operator/src/main/java/io/strimzi/operator/topic/BatchingTopicController.java:699-707",
    procedure: "Kafka cannot rename a topic: add the new topic, move clients, then retire the old one (streamforge:retire.topics)",
  },
  storageShrunk: {
    change: "a persistent volume's size decreased",
    strimzi:
      "the Cluster Operator ignores every storage change of the pool and sets a KafkaStorage warning (StorageDiff shrinkSize); Kubernetes cannot shrink volumes",
    source: "cluster-operator/src/main/java/io/strimzi/operator/cluster/model/KafkaPool.java:157-190, StorageDiff.java:117-129",
    procedure:
      "add a new broker pool with the smaller volumes, move the partitions to it, retire the old pool (documentation/modules/configuring/proc-managing-storage-node-pools.adoc)",
  },
  storageTypeChanged: {
    change: "a pool's storage type changed (ephemeral <-> persistent-claim)",
    strimzi: "the Cluster Operator ignores every storage change of the pool and sets a KafkaStorage warning (StorageDiff changesType)",
    source: "cluster-operator/src/main/java/io/strimzi/operator/cluster/model/StorageDiff.java:138, KafkaPool.java:157-190",
    procedure:
      "add a new broker pool with the new storage, move the partitions to it, retire the old pool (documentation/modules/configuring/proc-managing-storage-node-pools.adoc)",
  },
  storageClassChanged: {
    change: "a pool's storage class changed",
    strimzi: "the Cluster Operator ignores every storage change of the pool and sets a KafkaStorage warning (a /class diff)",
    source: "cluster-operator/src/main/java/io/strimzi/operator/cluster/model/StorageDiff.java:30-31, KafkaPool.java:157-190",
    procedure:
      "add a new broker pool with the new class, move the partitions to it, retire the old pool (documentation/modules/configuring/proc-managing-storage-node-pools.adoc)",
  },
  storageFieldChanged: {
    change: "a volume's setting other than its size, deleteClaim, kraftMetadata or volumeAttributesClass changed (an ephemeral sizeLimit)",
    strimzi:
      "the Cluster Operator ignores every storage change of the pool and sets a KafkaStorage warning (StorageDiff allows only those paths and a size increase)",
    source: "cluster-operator/src/main/java/io/strimzi/operator/cluster/model/StorageDiff.java:30-31,106-140, KafkaPool.java:157-190",
    procedure:
      "add a new broker pool with the new setting, move the partitions to it, retire the old pool (documentation/modules/configuring/proc-managing-storage-node-pools.adoc)",
  },
  volumeRemoved: {
    change: "a JBOD volume removed",
    strimzi: "the Cluster Operator removes the volume without checking that it is empty: the partitions on it are lost from that broker",
    source: "cluster-operator/src/main/java/io/strimzi/operator/cluster/model/StorageDiff.java:73-101",
    procedure:
      "move the partitions off the volume first (a KafkaRebalance in remove-disks mode, documentation/modules/cruise-control/proc-cruise-control-moving-data.adoc), then add a new pool with fewer volumes and retire this one",
  },
  brokersScaledDown: {
    change: "a broker pool scaled down",
    strimzi:
      "while the leaving brokers hold partition replicas the Cluster Operator keeps the old count and sets a ScaleDownPreventionCheck warning: the Kafka CR stays Ready and the change silently does not happen",
    source:
      "cluster-operator/src/main/java/io/strimzi/operator/cluster/operator/assembly/KafkaClusterCreator.java:176-246, BrokersInUseCheck.java:49-79",
    procedure:
      "move the partitions off the leaving brokers (a KafkaRebalance in remove-brokers mode, documentation/modules/configuring/proc-scaling-down-node-pools.adoc), then confirm with streamforge:retire.scaleDown.<pool> set to the new count",
  },
  brokerRoleRemoved: {
    change: "the broker role removed from a pool",
    strimzi: "while its nodes hold partition replicas the Cluster Operator reverts the roles and sets a ScaleDownPreventionCheck warning",
    source: "cluster-operator/src/main/java/io/strimzi/operator/cluster/operator/assembly/KafkaClusterCreator.java:255-281",
    procedure:
      "add a broker pool, move the partitions to it, then split the roles (documentation/modules/configuring/proc-splitting-node-pool-roles.adoc)",
  },
  controllerQuorumChanged: {
    change:
      "the KRaft controller quorum changed (a controller pool scaled, added or removed, or the controller role added to or removed from a pool)",
    strimzi:
      "Strimzi uses a static quorum (controller.quorum.voters) and documents every such change as unsupported; no code stops it, so the quorum breaks",
    source:
      "documentation/assemblies/deploying/assembly-kraft-mode.adoc:76-98, cluster-operator/src/main/java/io/strimzi/operator/cluster/model/KafkaBrokerConfigurationBuilder.java:209",
    procedure: "not supported by Strimzi 1.2.0: keep the controller pools as they are",
  },
  clusterRenamed: {
    change: "the Kafka cluster's name changed",
    strimzi:
      "every object Strimzi makes is named after the Kafka CR (KafkaResources.java), so a new name is a new, empty cluster beside the old one, whose node pools lose their strimzi.io/cluster label and stop being reconciled",
    source:
      "api/src/main/java/io/strimzi/api/kafka/model/kafka/KafkaResources.java:72, cluster-operator/src/main/java/io/strimzi/operator/cluster/operator/assembly/KafkaAssemblyOperator.java:533",
    procedure: "keep kafka.clusterName; a cluster under another name is a new stack, with its data mirrored to it (MirrorMaker 2)",
  },
  usersNamespaceChanged: {
    change: "the namespace of the KafkaUsers changed (apps.namespace)",
    strimzi:
      "the User Operator then watches the new namespace; its periodic reconcile deletes the SCRAM credentials and ACLs of every user without a KafkaUser there (KafkaUserOperator.reconcile, delete) before the users are declared again: every client is cut off",
    source:
      "user-operator/src/main/java/io/strimzi/operator/user/UserController.java:266-290, user-operator/src/main/java/io/strimzi/operator/user/operator/KafkaUserOperator.java:121-151,190-223",
    procedure: "keep apps.namespace; apps in another namespace get their credentials Secrets copied there, or a stack of their own",
  },
  catalogueOwnerChanged: {
    change: "the catalogue's owner changed on a running cluster (catalogue.owner)",
    strimzi:
      "the old owner's topics and users leave the program while the new owner declares them again: a managed KafkaTopic deleted deletes its topic and data in Kafka " +
      "(BatchingTopicController.deleteInternal), the admin API refuses to create a topic that exists, and with the User Operator's ignore pattern gone or a KafkaUser removed " +
      "it deletes the users' SCRAM credentials and ACLs (KafkaUserOperator.getAllUsers, delete) while the other owner writes new passwords: every client is cut off",
    source:
      "topic-operator/src/main/java/io/strimzi/operator/topic/BatchingTopicController.java:133-154,187-192, user-operator/src/main/java/io/strimzi/operator/user/operator/KafkaUserOperator.java:121-151,190-226, ScramCredentialsOperator.java:184",
    procedure:
      "keep catalogue.owner; a catalogue under the other owner is a new stack with a cluster of its own, its data mirrored to it (MirrorMaker 2) and clients moved to it",
  },
  versionUnsupported: {
    change: "a Kafka version the pinned Strimzi release does not support",
    strimzi: 'the reconcile fails with UnsupportedKafkaVersionException ("Unsupported Kafka.spec.kafka.version")',
    source: "kafka-versions.yaml, cluster-operator/src/main/java/io/strimzi/operator/cluster/model/KafkaVersion.java:161-176",
    procedure: "pick a supported version, or upgrade Strimzi first (docs/data-safety.md, Upgrading Kafka)",
  },
  metadataAheadOfVersion: {
    change: "metadataVersion above what the Kafka version supports",
    strimzi:
      "the Cluster Operator silently keeps the current metadata version (a log line, no condition: KRaftVersionChangeCreator.metadataVersionWithoutKafkaVersionChange)",
    source: "cluster-operator/src/main/java/io/strimzi/operator/cluster/operator/assembly/KRaftVersionChangeCreator.java:208-223",
    procedure: "raise version first; raise metadataVersion in a later change, once every broker runs the new version",
  },
  metadataWithVersionChange: {
    change: "metadataVersion changed in the same change as version",
    strimzi: "during a version change the Cluster Operator ignores spec.metadataVersion and keeps the current one",
    source: "cluster-operator/src/main/java/io/strimzi/operator/cluster/operator/assembly/KRaftVersionChangeCreator.java:234-285",
    procedure:
      "upgrade: change version alone, then metadataVersion; downgrade: lower metadataVersion alone, then version (documentation/modules/upgrading/proc-upgrade-kafka-kraft.adoc, proc-downgrade-kafka-kraft.adoc)",
  },
  downgradePastMetadata: {
    change: "a Kafka downgrade while the cluster's metadata version is above the target version's",
    strimzi:
      'the reconcile fails with KafkaUpgradeException ("The current metadata version ... has to be lower or equal to the Kafka broker version we are downgrading to")',
    source: "cluster-operator/src/main/java/io/strimzi/operator/cluster/operator/assembly/KRaftVersionChangeCreator.java:265-285",
    procedure:
      "lower metadataVersion to the target's first, wait for status.kafkaMetadataVersion to show it, then lower version (documentation/modules/upgrading/proc-downgrade-kafka-kraft.adoc)",
  },
} as const satisfies Record<string, UnsupportedChange>;

export type UnsupportedChangeId = keyof typeof UNSUPPORTED_CHANGES;

/** The message of a refused change: what was asked, what Strimzi would do, what to do instead. */
function refusal(id: UnsupportedChangeId, found: string): string {
  const rule = UNSUPPORTED_CHANGES[id];
  return `${rule.change} is not a change Strimzi 1.2.0 can make: ${rule.strimzi} (${rule.source}); found ${found}. Instead: ${rule.procedure}`;
}

/**
 * Kafka versions each Strimzi release supports and the metadata version each defaults to, from
 * its kafka-versions.yaml (entries with `supported: true`; 1.2.0: lines 296-324).
 */
export const STRIMZI_KAFKA_VERSIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "1.2.0": { "4.2.0": "4.2-IV1", "4.2.1": "4.2-IV1", "4.3.0": "4.3-IV0", "4.3.1": "4.3-IV0" },
};

/**
 * Orders metadata versions as Strimzi does: by release only, the `-IVn` suffix ignored
 * (KafkaVersion.compareMetadataVersions, cluster-operator/.../model/KafkaVersion.java:490-537).
 */
export function compareMetadata(a: string, b: string): number {
  const release = (v: string): [number, number] => {
    const m = /^(\d+)\.(\d+)/.exec(v);
    return m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  };
  const [x, y] = [release(a), release(b)];
  return x[0] - y[0] || x[1] - y[1];
}

const compareVersions = (a: string, b: string): number => {
  const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};

/** Version rules that need no live cluster: the version is the release's, metadataVersion within it. */
export function versionProblems(kafka: KafkaConfig, strimziChartVersion: string): ConfigProblem[] {
  const supported = STRIMZI_KAFKA_VERSIONS[strimziChartVersion];
  if (!supported)
    return [
      problem(
        "strimzi",
        ["chartVersion"],
        `expected a Strimzi release whose supported Kafka versions infra/kafka/kafka-changes.ts lists (${Object.keys(STRIMZI_KAFKA_VERSIONS).join(", ")}); found "${strimziChartVersion}". Add its kafka-versions.yaml entries there first`,
      ),
    ];
  const metadata = supported[kafka.version];
  if (metadata === undefined)
    return [
      problem(
        "kafka",
        ["version"],
        refusal("versionUnsupported", `"${kafka.version}"; Strimzi ${strimziChartVersion} supports ${Object.keys(supported).join(", ")}`),
      ),
    ];
  if (kafka.metadataVersion !== undefined && compareMetadata(kafka.metadataVersion, metadata) > 0)
    return [
      problem(
        "kafka",
        ["metadataVersion"],
        refusal(
          "metadataAheadOfVersion",
          `"${kafka.metadataVersion}" with version ${kafka.version}, whose metadata version is ${metadata}`,
        ),
      ),
    ];
  return [];
}

/** The desired Strimzi CRs' specs the live ones are compared with (as cluster-spec.ts renders them). */
export interface DesiredSpecs {
  readonly kafka: KafkaConfig;
  /** Where the KafkaUsers are declared (apps.namespace), which the User Operator watches. */
  readonly usersNamespace: string;
  readonly strimziChartVersion: string;
  readonly catalogueOwner: CatalogueConfig["owner"];
  /** The topics (their names in Kafka) and users the catalogue declares. */
  readonly declared: { readonly topics: readonly string[]; readonly users: readonly string[] };
  readonly nodePools: readonly { readonly name: string; readonly spec: Readonly<Record<string, unknown>> }[];
  /** `name` is the topic's name in Kafka, `resourceName` its KafkaTopic's. */
  readonly topics: readonly { readonly name: string; readonly resourceName: string; readonly spec: Readonly<Record<string, unknown>> }[];
}

interface Volume {
  readonly id?: number;
  readonly type?: string;
  readonly size?: string;
  readonly class?: string;
  readonly [field: string]: unknown;
}

/** The fields a volume may change that StorageDiff allows (IGNORABLE_PATHS, and /size when it grows), or another rule reads. */
const VOLUME_FIELDS_RULED = new Set(["id", "type", "size", "class", "deleteClaim", "kraftMetadata", "volumeAttributesClass"]);

function volumesOf(spec: Readonly<Record<string, unknown>>): Volume[] {
  const storage = spec.storage as (Volume & { volumes?: Volume[] }) | undefined;
  if (!storage) return [];
  return storage.type === "jbod" ? (storage.volumes ?? []) : [storage];
}

/** Kubernetes quantity to bytes (binary and decimal suffixes; enough to order volume sizes). */
export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGTPE]i?|k)?$/.exec(q);
  if (!m) return NaN;
  const units: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
  const unit = m[2] ?? "";
  const factor = unit.endsWith("i") ? 1024 ** ("KMGTPE".indexOf(unit[0]!) + 1) : (units[unit] ?? 1);
  return Number(m[1]) * factor;
}

function storageProblems(
  pool: string,
  index: number,
  live: Readonly<Record<string, unknown>>,
  desired: Readonly<Record<string, unknown>>,
): ConfigProblem[] {
  const at = (message: string) => problem("kafka", ["nodePools", index, "storage"], message);
  const before = new Map(volumesOf(live).map((v) => [v.id ?? 0, v]));
  const after = new Map(volumesOf(desired).map((v) => [v.id ?? 0, v]));
  const problems: ConfigProblem[] = [];
  for (const [id, was] of before) {
    const now = after.get(id);
    if (!now) {
      problems.push(at(refusal("volumeRemoved", `pool "${pool}" losing volume ${id}`)));
      continue;
    }
    if (was.type !== now.type) problems.push(at(refusal("storageTypeChanged", `pool "${pool}" volume ${id}: ${was.type} -> ${now.type}`)));
    else if (was.class !== now.class)
      problems.push(at(refusal("storageClassChanged", `pool "${pool}" volume ${id}: ${was.class} -> ${now.class}`)));
    const others = [...new Set([...Object.keys(was), ...Object.keys(now)])].filter(
      (f) => !VOLUME_FIELDS_RULED.has(f) && JSON.stringify(was[f]) !== JSON.stringify(now[f]),
    );
    if (was.type === now.type && others.length > 0)
      problems.push(
        at(
          refusal(
            "storageFieldChanged",
            `pool "${pool}" volume ${id}: ${others.map((f) => `${f} ${JSON.stringify(was[f]) ?? "(unset)"} -> ${JSON.stringify(now[f]) ?? "(unset)"}`).join(", ")}`,
          ),
        ),
      );
    if (was.size && now.size && quantityBytes(now.size) < quantityBytes(was.size))
      problems.push(at(refusal("storageShrunk", `pool "${pool}" volume ${id}: ${was.size} -> ${now.size}`)));
  }
  return problems;
}

const roles = (spec: Readonly<Record<string, unknown>>): string[] => (Array.isArray(spec.roles) ? (spec.roles as string[]) : []);
const list = (items: readonly string[]) => `[${items.join(", ")}]`;

function poolProblems(live: readonly LiveObject[], desired: DesiredSpecs["nodePools"], retire: RetireConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const livePools = new Map(live.map((p) => [p.name, p]));
  desired.forEach(({ name, spec }, index) => {
    const was = livePools.get(name);
    // A new pool: a new controller pool changes the quorum, when the cluster already runs.
    if (!was) {
      if (live.length > 0 && roles(spec).includes("controller"))
        problems.push(problem("kafka", ["nodePools", index], refusal("controllerQuorumChanged", `a new controller pool "${name}"`)));
      return;
    }
    const [wasRoles, nowRoles] = [roles(was.spec), roles(spec)];
    const [wasReplicas, nowReplicas] = [Number(was.spec.replicas), Number(spec.replicas)];
    if (wasRoles.includes("controller") !== nowRoles.includes("controller"))
      problems.push(
        problem(
          "kafka",
          ["nodePools", index, "roles"],
          refusal("controllerQuorumChanged", `pool "${name}" roles ${list(wasRoles)} -> ${list(nowRoles)}`),
        ),
      );
    else if (nowRoles.includes("controller") && wasReplicas !== nowReplicas)
      problems.push(
        problem(
          "kafka",
          ["nodePools", index, "replicas"],
          refusal("controllerQuorumChanged", `controller pool "${name}" replicas ${wasReplicas} -> ${nowReplicas}`),
        ),
      );
    if (wasRoles.includes("broker") && !nowRoles.includes("broker"))
      problems.push(
        problem(
          "kafka",
          ["nodePools", index, "roles"],
          refusal("brokerRoleRemoved", `pool "${name}" roles ${list(wasRoles)} -> ${list(nowRoles)}`),
        ),
      );
    if (
      nowRoles.includes("broker") &&
      !nowRoles.includes("controller") &&
      nowReplicas < wasReplicas &&
      retire.scaleDown[name] !== nowReplicas
    )
      problems.push(
        problem(
          "kafka",
          ["nodePools", index, "replicas"],
          refusal(
            "brokersScaledDown",
            `pool "${name}" replicas ${wasReplicas} -> ${nowReplicas} without streamforge:retire.scaleDown.${name}: ${nowReplicas}`,
          ),
        ),
      );
    problems.push(...storageProblems(name, index, was.spec, spec));
  });
  // A controller pool leaving the program, retired or not, changes the quorum.
  const kept = new Set(desired.map((p) => p.name));
  for (const pool of live)
    if (!kept.has(pool.name) && roles(pool.spec).includes("controller"))
      problems.push(problem("kafka", ["nodePools"], refusal("controllerQuorumChanged", `controller pool "${pool.name}" removed`)));
  return problems;
}

function topicProblems(live: readonly LiveObject[], desired: DesiredSpecs["topics"]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const byObject = new Map(live.map((t) => [t.name, t]));
  for (const { name, resourceName, spec } of desired) {
    const was = byObject.get(resourceName);
    if (!was) continue;
    const at = (field: string | undefined, message: string) => problem("catalogue", ["topics", name, ...(field ? [field] : [])], message);
    if (liveTopicName(was) !== name)
      problems.push(at(undefined, refusal("topicNameChanged", `KafkaTopic ${was.name}: "${liveTopicName(was)}" -> "${name}"`)));
    const [wasPartitions, nowPartitions] = [Number(was.spec.partitions), Number(spec.partitions)];
    if (nowPartitions < wasPartitions)
      problems.push(at("partitions", refusal("partitionsDecreased", `${wasPartitions} -> ${nowPartitions}`)));
    if (was.spec.replicas !== undefined && Number(was.spec.replicas) !== Number(spec.replicas))
      problems.push(at("replicas", refusal("replicasChanged", `${Number(was.spec.replicas)} -> ${Number(spec.replicas)}`)));
  }
  return problems;
}

function clusterVersionProblems(live: LiveObject | undefined, kafka: KafkaConfig, strimziChartVersion: string): ConfigProblem[] {
  const was = (live?.spec.kafka ?? {}) as { version?: string; metadataVersion?: string };
  if (!live || was.version === undefined || was.version === kafka.version) return [];
  const problems: ConfigProblem[] = [];
  if (was.metadataVersion !== kafka.metadataVersion)
    problems.push(
      problem(
        "kafka",
        ["metadataVersion"],
        refusal(
          "metadataWithVersionChange",
          `version ${was.version} -> ${kafka.version} with metadataVersion ${was.metadataVersion ?? "(default)"} -> ${kafka.metadataVersion ?? "(default)"}`,
        ),
      ),
    );
  const current = (live.status as { kafkaMetadataVersion?: string } | undefined)?.kafkaMetadataVersion;
  const target = STRIMZI_KAFKA_VERSIONS[strimziChartVersion]?.[kafka.version];
  if (
    compareVersions(kafka.version, was.version) < 0 &&
    current !== undefined &&
    target !== undefined &&
    compareMetadata(current, target) > 0
  )
    problems.push(
      problem(
        "kafka",
        ["version"],
        refusal(
          "downgradePastMetadata",
          `${was.version} -> ${kafka.version} while the cluster's metadata version is ${current} (above ${target})`,
        ),
      ),
    );
  return problems;
}

/** The cluster's identity: its name, its stack, and the namespace its User Operator watches, against what the cluster runs. */
function identityProblems(live: LiveKafka, kafka: KafkaConfig, usersNamespace: string): ConfigProblem[] {
  const renamed = (from: string) =>
    problem("kafka", ["clusterName"], refusal("clusterRenamed", `"${from}" -> "${kafka.clusterName}" in namespace ${kafka.namespace}`));
  if (!live.cluster) {
    const [former] = live.formerNames ?? [];
    if (former !== undefined) return [renamed(former)];
    const unnamed = live.unnamedClusters ?? [];
    if (unnamed.length === 1) return [renamed(unnamed[0]!)];
    if (unnamed.length > 1)
      return [
        problem(
          "kafka",
          ["clusterName"],
          `expected to tell a new cluster from this stack's under a former name; found Kafka CRs ${unnamed.join(", ")} in namespace ${kafka.namespace} that name no stack (${STACK_ANNOTATION}). ` +
            `Run \`pulumi up\` of the stacks that declare them first (each then carries its stack's name), or move this cluster to a namespace of its own`,
        ),
      ];
    return [];
  }
  if (live.clusterOwner !== undefined)
    return [
      problem(
        "kafka",
        ["clusterName"],
        `expected a Kafka cluster of this stack's; found "${kafka.clusterName}" in namespace ${kafka.namespace} declared by stack ${live.clusterOwner} (${STACK_ANNOTATION}): ` +
          `this stack would take it over. Choose another kafka.clusterName or namespace; if it is this stack's under a former stack name (pulumi stack rename), ` +
          `write this stack's on it: kubectl annotate kafka ${kafka.clusterName} -n ${kafka.namespace} ${STACK_ANNOTATION}=${live.stack ?? "<organization>/<project>/<stack>"} --overwrite`,
      ),
    ];
  const watched = (live.cluster.spec.entityOperator as { userOperator?: { watchedNamespace?: string } } | undefined)?.userOperator
    ?.watchedNamespace;
  return watched !== undefined && watched !== usersNamespace
    ? [problem("apps", ["namespace"], refusal("usersNamespaceChanged", `${watched} -> ${usersNamespace}`))]
    : [];
}

/**
 * The catalogue's owner against the cluster's: the one its Kafka CR records; where none is (a
 * cluster applied before the record was written), the users its User Operator ignores (owner
 * kafka-api's mark) or, under owner kafka-api, the KafkaTopics and KafkaUsers Strimzi still manages
 * under the catalogue's names.
 */
function ownerProblems(
  live: LiveKafka,
  owner: CatalogueConfig["owner"],
  declared: { topics: readonly string[]; users: readonly string[] },
) {
  if (!live.cluster) return [];
  const refused = (found: string) => [problem("catalogue", ["owner"], refusal("catalogueOwnerChanged", found))];
  if (live.catalogueOwner !== undefined && live.catalogueOwner !== owner)
    return refused(`${live.catalogueOwner} -> ${owner} (the Kafka CR's ${CATALOGUE_OWNER_ANNOTATION})`);
  // Unrecorded: only owner kafka-api has the User Operator ignore users (cluster-spec.ts kafkaSpec).
  const ignored = ignoredUsersOf(live.cluster.spec);
  if (live.catalogueOwner === undefined && owner === "strimzi" && ignored.length > 0)
    return refused(`kafka-api -> strimzi (the Kafka CR's User Operator ignores ${ignored.join(", ")}, as only owner kafka-api has it)`);
  const held = live.strimziCatalogue;
  if (owner !== "kafka-api" || !held) return [];
  const topics = declared.topics.filter((t) => held.topics.includes(t));
  const users = declared.users.filter((u) => held.users.includes(u));
  if (topics.length + users.length === 0) return [];
  const names = (kind: string, list: readonly string[]) => (list.length > 0 ? [`${kind} ${list.join(", ")}`] : []);
  return refused(
    `strimzi -> kafka-api while Strimzi manages ${[...names("KafkaTopics", topics), ...names("KafkaUsers", users)].join(" and ")} of the catalogue`,
  );
}

/** Every change from the live objects to the desired ones that Strimzi cannot make. */
export function unsupportedChangeProblems(live: LiveKafka, desired: DesiredSpecs, retire: RetireConfig): ConfigProblem[] {
  return [
    ...identityProblems(live, desired.kafka, desired.usersNamespace),
    ...ownerProblems(live, desired.catalogueOwner, desired.declared),
    ...clusterVersionProblems(live.cluster, desired.kafka, desired.strimziChartVersion),
    ...poolProblems(live.nodePools, desired.nodePools, retire),
    ...topicProblems(comparedTopics(live), desired.topics),
  ];
}

/** The node pools and topics the program declares, as cluster-spec.ts and strimzi-entities.ts render them. */
function desiredSpecs(kafka: KafkaConfig, topics: readonly TopicPlan[]): Pick<DesiredSpecs, "nodePools" | "topics"> {
  return {
    nodePools: kafka.nodePools.map((pool) => ({ name: pool.name, spec: nodePoolSpec(pool) })),
    topics: topics.map((t) => ({ name: t.name, resourceName: t.resourceName, spec: kafkaTopicSpec(t) })),
  };
}

/** Everything an edit of the stack would do to the live Kafka objects that it may not: departures and unsupported changes. */
export function kafkaEditProblems(
  config: {
    readonly kafka: KafkaConfig;
    readonly catalogue: CatalogueConfig;
    readonly strimzi: StrimziConfig;
    readonly retire: RetireConfig;
    readonly apps: { readonly namespace: string };
  },
  live: LiveKafka,
): ConfigProblem[] {
  const { kafka, catalogue, strimzi, retire, apps } = config;
  const topics = planTopics(catalogue, kafka.replication.factor);
  const declared = {
    topics: topics.map((t) => t.name),
    users: planUsers(catalogue).map((u) => u.name),
    nodePools: kafka.nodePools.map((p) => p.name),
  };
  return [
    ...departureProblems(live, declared, retire),
    ...releasedUserProblems(live, declared.users, retire),
    ...staleConfirmationProblems(
      live,
      { ...declared, replicas: Object.fromEntries(kafka.nodePools.map((p) => [p.name, p.replicas])) },
      retire,
    ),
    ...unsupportedChangeProblems(
      live,
      {
        kafka,
        usersNamespace: apps.namespace,
        strimziChartVersion: strimzi.chartVersion,
        catalogueOwner: catalogue.owner,
        declared,
        ...desiredSpecs(kafka, topics),
      },
      retire,
    ),
    ...truncationProblems(
      {
        ...(live.cluster ? { brokerConfig: brokerConfigOf(live.cluster.spec) } : {}),
        topics: comparedTopics(live).map((t) => ({ name: liveTopicName(t), config: (t.spec.config ?? {}) as Record<string, unknown> })),
      },
      { brokerConfig: kafka.config, topics: topics.map((t) => ({ name: t.name, config: t.config })) },
      retire,
    ),
  ];
}

/** What the edit does to the running cluster (impact.ts), given the Kafka CR spec the program renders. */
export function kafkaEditImpacts(
  config: {
    readonly kafka: KafkaConfig;
    readonly catalogue: CatalogueConfig;
    readonly apps: { readonly namespace: string };
  },
  live: LiveKafka,
  clusterSpec: Readonly<Record<string, unknown>>,
): Impact[] {
  const { kafka, catalogue } = config;
  const topics = planTopics(catalogue, kafka.replication.factor);
  const users = planUsers(catalogue);
  const declared = (kind: LiveObject["kind"], name: string) =>
    kind === "KafkaTopic"
      ? topics.some((t) => t.resourceName === name)
      : kind === "KafkaUser"
        ? users.some((u) => u.name === name)
        : kafka.nodePools.some((p) => p.name === name);
  const retiring = [...live.nodePools, ...live.topics, ...live.users]
    .filter((o) => o.retire !== undefined && !declared(o.kind, o.name))
    .map((object) => ({ object, mode: object.retire! }));
  return kafkaImpacts(live, {
    namespace: kafka.namespace,
    usersNamespace: config.apps.namespace,
    cluster: clusterSpec,
    ...desiredSpecs(kafka, topics),
    users: users.map((u) => ({ name: u.name, spec: kafkaUserSpec(u) })),
    retiring,
  });
}
