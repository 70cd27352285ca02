/**
 * The stack's Kafka objects as the API server holds them, read before anything is declared: what
 * data-safety.ts compares the program with. Only objects this program labels as its own
 * (`app.kubernetes.io/part-of: streamforge`, the cluster's `strimzi.io/cluster`) are read, in
 * the namespaces this stack puts them in. Where Strimzi's CRDs are not installed yet (a first
 * `up` installs them with the operator's chart) there is nothing to read.
 */
import type { ResolvedCluster } from "../kit/provider";
import { kubeClient, withApiRetries } from "../kit/kube-client";
import { LiveReadError, failureText } from "../kit/errors";
import { STRIMZI_API_VERSION } from "./cluster-spec";
import { RETIRE_MODES, type RetireMode } from "./config";
import {
  CATALOGUE_OWNER_ANNOTATION,
  KAFKA_API_ACLS_ANNOTATION,
  LIVE_READS,
  type LiveKafka,
  type LiveObject,
  RETIRE_ANNOTATION,
  STACK_ANNOTATION,
  decodeAclRecord,
  liveTopicName,
} from "./data-safety";

interface KubeObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly annotations?: Record<string, string> };
  readonly spec?: Record<string, unknown>;
  readonly status?: Record<string, unknown>;
}

function toLive(kind: LiveObject["kind"], o: KubeObject): LiveObject {
  const mode = o.metadata?.annotations?.[RETIRE_ANNOTATION];
  return {
    kind,
    namespace: o.metadata?.namespace ?? "",
    name: o.metadata?.name ?? "",
    ...(RETIRE_MODES.includes(mode as RetireMode) ? { retire: mode as RetireMode } : {}),
    spec: o.spec ?? {},
    ...(o.status ? { status: o.status } : {}),
  };
}

/**
 * Whose each Kafka CR of the namespace is (STACK_ANNOTATION), as the identity rules read it
 * (kafka-changes.ts identityProblems): this stack's other CRs (its cluster under a former name),
 * the CRs that name no stack (declared before the annotation, or by hand), and the stack named on
 * the CR of this cluster's name where it is another's. A CR of another stack is none of them.
 */
export function clusterOwnership(
  clusters: readonly KubeObject[],
  clusterName: string,
  stack: string,
): Pick<LiveKafka, "formerNames" | "unnamedClusters" | "clusterOwner"> {
  const owner = (c: KubeObject) => c.metadata?.annotations?.[STACK_ANNOTATION] || undefined;
  const others = clusters.filter((c) => c.metadata?.name !== clusterName);
  const names = (cs: KubeObject[]) => cs.map((c) => c.metadata?.name ?? "").sort();
  const formerNames = names(others.filter((c) => owner(c) === stack));
  const unnamedClusters = names(others.filter((c) => owner(c) === undefined));
  const found = owner(clusters.find((c) => c.metadata?.name === clusterName) ?? {});
  return {
    ...(formerNames.length > 0 ? { formerNames } : {}),
    ...(unnamedClusters.length > 0 ? { unnamedClusters } : {}),
    ...(found !== undefined && found !== stack ? { clusterOwner: found } : {}),
  };
}

/** Reads the Kafka cluster, node pools, topics and users this stack declared into the cluster `target` names. */
export async function readLiveKafka(
  target: ResolvedCluster,
  where: {
    readonly clusterName: string;
    readonly kafkaNamespace: string;
    readonly usersNamespace: string;
    /** Whether the catalogue's topics and users are Strimzi CRs (owner strimzi), to judge; otherwise only their names are kept. */
    readonly catalogue: boolean;
    /** This stack's identity, as its Kafka CR carries it (STACK_ANNOTATION). */
    readonly stack: string;
  },
): Promise<LiveKafka> {
  const { k8s, config } = await kubeClient(target.kubeconfigPath, target.context);
  const api = config.makeApiClient(k8s.CustomObjectsApi);
  const [group, version] = STRIMZI_API_VERSION.split("/") as [string, string];
  const labelSelector = `app.kubernetes.io/part-of=streamforge,strimzi.io/cluster=${where.clusterName}`;
  const list = async (plural: string, namespace: string, selector?: string): Promise<KubeObject[]> => {
    try {
      const found = (await withApiRetries(() =>
        api.listNamespacedCustomObject({ group, version, namespace, plural, labelSelector: selector }),
      )) as { items?: KubeObject[] };
      return found.items ?? [];
    } catch (err) {
      // No such resource type yet (the CRDs come with Strimzi's chart) or no such namespace: nothing declared there.
      if ((err as { code?: number }).code === 404) return [];
      throw new LiveReadError(`reading ${plural} in namespace ${namespace} from ${target.server} failed: ${failureText(err)}`);
    }
  };
  const namespaceOf = { kafka: where.kafkaNamespace, users: where.usersNamespace };
  const [clusters, nodePools, topics, users] = (await Promise.all(
    LIVE_READS.map(({ plural, namespace }) =>
      // The Kafka CR carries no strimzi.io/cluster label of its own.
      list(plural, namespaceOf[namespace], plural === "kafkas" ? "app.kubernetes.io/part-of=streamforge" : labelSelector),
    ),
  )) as [KubeObject[], KubeObject[], KubeObject[], KubeObject[]];
  const cluster = clusters.find((c) => c.metadata?.name === where.clusterName);
  const owner = cluster?.metadata?.annotations?.[CATALOGUE_OWNER_ANNOTATION];
  const aclsDeclared = decodeAclRecord(cluster?.metadata?.annotations?.[KAFKA_API_ACLS_ANNOTATION]);
  const [liveTopics, liveUsers] = [topics.map((o) => toLive("KafkaTopic", o)), users.map((o) => toLive("KafkaUser", o))];
  return {
    ...(cluster ? { cluster: toLive("Kafka", cluster) } : {}),
    ...(owner ? { catalogueOwner: owner } : {}),
    ...(aclsDeclared ? { aclsDeclared } : {}),
    ...clusterOwnership(clusters, where.clusterName, where.stack),
    stack: where.stack,
    nodePools: nodePools.map((o) => toLive("KafkaNodePool", o)),
    // Owner kafka-api: the catalogue is not Strimzi's, but a KafkaTopic or KafkaUser left from owner strimzi still is (kafka-changes.ts catalogueOwnerChanged).
    ...(where.catalogue
      ? { topics: liveTopics, users: liveUsers }
      : {
          catalogueRead: false,
          topics: [],
          users: [],
          // A KafkaTopic marked strimzi.io/managed: "false" no longer has its topic managed (topic-operator TopicOperatorUtil.isManaged, 1.2.0).
          strimziCatalogue: {
            topics: topics
              .filter((t) => t.metadata?.annotations?.["strimzi.io/managed"] !== "false")
              .map((t) => liveTopicName(toLive("KafkaTopic", t))),
            users: liveUsers.map((u) => u.name),
          },
        }),
  };
}
