/**
 * What a change does to the running Kafka cluster, for every preview: each change to the Kafka
 * CR, a node pool, a topic or a user, labelled from Strimzi 1.2.0's behaviour, destructive and
 * disruptive first. Pure: live objects (live.ts) against the specs the program renders.
 * Where Strimzi decides at run time (a broker setting that Kafka can or cannot apply without a
 * restart), the label says so rather than guess.
 */
import { isDeepStrictEqual } from "node:util";
import { type LiveKafka, type LiveObject, brokerConfigOf, comparedTopics } from "./data-safety";
import { brokerTruncations, topicTruncations } from "./truncation";

export type ImpactLevel = "destructive" | "disruptive" | "benign";

export interface Impact {
  readonly level: ImpactLevel;
  /** The object, as `Kind namespace/name`. */
  readonly object: string;
  readonly change: string;
  readonly effect: string;
}

/** The desired objects, as cluster-spec.ts and strimzi-entities.ts render them. */
export interface DesiredKafkaObjects {
  readonly namespace: string;
  readonly usersNamespace: string;
  readonly cluster: Readonly<Record<string, unknown>>;
  readonly nodePools: readonly { readonly name: string; readonly spec: Readonly<Record<string, unknown>> }[];
  readonly topics: readonly { readonly name: string; readonly resourceName: string; readonly spec: Readonly<Record<string, unknown>> }[];
  readonly users: readonly { readonly name: string; readonly spec: Readonly<Record<string, unknown>> }[];
  /** Objects leaving with an applied confirmation, by kind and name: `keep` or `delete`. */
  readonly retiring: readonly { readonly object: LiveObject; readonly mode: "keep" | "delete" }[];
}

const LEVEL_ORDER: readonly ImpactLevel[] = ["destructive", "disruptive", "benign"];
const where = (o: { kind: string; namespace: string; name: string }) => `${o.kind} ${o.namespace}/${o.name}`;
const field = (spec: Readonly<Record<string, unknown>> | undefined, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), spec);
const changed = (a: unknown, b: unknown) => !isDeepStrictEqual(a ?? null, b ?? null);
/** A Kafka config value as Kafka holds it: text (1000, "1000" and true, "true" are the same setting). */
const configText = (v: unknown): unknown => (typeof v === "number" || typeof v === "boolean" ? String(v) : v);

/** The config keys whose values differ, as Kafka reads them. */
const keysChanged = (a: unknown, b: unknown): string[] => {
  const [x, y] = [(a ?? {}) as Record<string, unknown>, (b ?? {}) as Record<string, unknown>];
  return [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => changed(configText(x[k]), configText(y[k]))).sort();
};

/** Which step of Strimzi's upgrade or downgrade path (documentation/modules/upgrading/proc-*-kafka-kraft.adoc) a change is. */
function upgradeStep(what: "version" | "metadataVersion", was: string, now: string): string {
  const numbers = (v: string) => (v.match(/\d+/g) ?? []).map(Number);
  const [a, b] = [numbers(was), numbers(now)];
  let order = 0;
  for (let i = 0; order === 0 && i < Math.max(a.length, b.length); i++) order = (b[i] ?? 0) - (a[i] ?? 0);
  if (order === 0 || was === "" || now === "") return `${what} change`;
  const up = order > 0;
  const first = up === (what === "version");
  return `${up ? "upgrade" : "downgrade"}, step ${first ? 1 : 2} of 2 (${up ? "version, then metadataVersion" : "metadataVersion, then version"})`;
}

/**
 * A metadata version change: no restart. Lowered, Strimzi asks Kafka for a SAFE_DOWNGRADE, which
 * Kafka refuses when a version between the two changed the metadata format; Strimzi then keeps
 * the current one with a MetadataUpdateFailed warning and the Kafka CR stays Ready
 * (KRaftMetadataManager.java:100-146; documentation/modules/upgrading/proc-downgrade-kafka-kraft.adoc).
 */
function metadataEffect(step: string): string {
  const moves = `${step}: the cluster's metadata version moves, no restart (KRaftMetadataManager.java:81-152)`;
  return step.startsWith("downgrade")
    ? `${moves}; Kafka allows it only if no version between the two changed the metadata format, else the status keeps the current one with a MetadataUpdateFailed warning: check status.kafkaMetadataVersion before step 2`
    : moves;
}

/** Kafka CR spec.kafka fields whose change rolls every node (the pod revision hash: PodRevision.java:51-69, KafkaReconciler.java:700-734). */
const ROLLING_FIELDS = ["version", "image", "jvmOptions", "template", "rack", "listeners", "authorization", "logging", "metricsConfig"];

function clusterImpacts(live: LiveObject | undefined, desired: DesiredKafkaObjects): Impact[] {
  if (!live) return [];
  const object = where(live);
  const pools = desired.nodePools.map((p) => p.name).join(", ");
  const impacts: Impact[] = [];
  for (const key of ROLLING_FIELDS) {
    const [was, now] = [field(live.spec, "kafka", key), field(desired.cluster, "kafka", key)];
    if (!changed(was, now)) continue;
    const cutOff =
      key === "listeners"
        ? ((was ?? []) as { name: string }[])
            .map((l) => l.name)
            .filter((n) => !((now ?? []) as { name: string }[]).some((l) => l.name === n))
        : [];
    impacts.push({
      level: cutOff.length > 0 ? "destructive" : "disruptive",
      object,
      change: key === "version" ? `spec.kafka.version ${was as string} -> ${now as string}` : `spec.kafka.${key}`,
      effect:
        (key === "version" ? `${upgradeStep("version", was as string, now as string)}: ` : "") +
        `rolling restart of every node (pools ${pools}): the pod revision changes (cluster-operator RestartReason PodHasOldRevision)` +
        (cutOff.length > 0 ? `; clients of listener ${cutOff.join(", ")} are cut off` : ""),
    });
  }
  const [wasConfig, nowConfig] = [brokerConfigOf(live.spec), brokerConfigOf(desired.cluster)];
  const config = keysChanged(wasConfig, nowConfig);
  const deleted = brokerTruncations(wasConfig, nowConfig);
  if (deleted.length > 0)
    impacts.push({
      level: "destructive",
      object,
      change: `spec.kafka.config: ${deleted.flatMap((t) => Object.keys(t.changed)).join(", ")}`,
      effect: `data deleted: ${deleted.map((t) => `${t.what}: ${t.effect}`).join("; ")} (truncation.ts)`,
    });
  if (config.length > 0)
    impacts.push({
      level: "disruptive",
      object,
      change: `spec.kafka.config: ${config.join(", ")}`,
      effect: `a rolling restart of every node where a key is read-only in Kafka, else applied live (KafkaConfigurationDiff.java:218-228, KafkaRoller.java:621-634)`,
    });
  const [wasMetadata, nowMetadata] = [field(live.spec, "kafka", "metadataVersion"), field(desired.cluster, "kafka", "metadataVersion")] as (
    string | undefined
  )[];
  // Unset, the cluster runs its version's default, which Strimzi reports in the status
  // (KRaftVersionChangeCreator.metadataVersionWithoutKafkaVersionChange): the step is read against that.
  const running = (live.status as { kafkaMetadataVersion?: string } | undefined)?.kafkaMetadataVersion;
  if (changed(wasMetadata, nowMetadata))
    impacts.push({
      level: "benign",
      object,
      change: `spec.kafka.metadataVersion ${wasMetadata ?? "(default)"} -> ${nowMetadata ?? "(default)"}`,
      effect: metadataEffect(upgradeStep("metadataVersion", wasMetadata ?? running ?? "", nowMetadata ?? "")),
    });
  for (const key of ["entityOperator", "kafkaExporter", "cruiseControl"])
    if (changed(field(live.spec, key), field(desired.cluster, key)))
      impacts.push({ level: "benign", object, change: `spec.${key}`, effect: "its own Deployment restarts; brokers are not rolled" });
  return impacts;
}

/** A pool's storage with every volume's deleteClaim left out: what a change other than deleteClaim alters. */
const withoutDeleteClaim = (storage: unknown): unknown =>
  JSON.parse(JSON.stringify(storage ?? {}, (key, value: unknown) => (key === "deleteClaim" ? undefined : value)));

function poolImpacts(live: readonly LiveObject[], desired: DesiredKafkaObjects): Impact[] {
  const impacts: Impact[] = [];
  for (const { name, spec } of desired.nodePools) {
    const was = live.find((p) => p.name === name);
    const object = `KafkaNodePool ${desired.namespace}/${name}`;
    if (!was) {
      impacts.push({ level: "benign", object, change: "created", effect: "new nodes; no partition moves to them until a rebalance" });
      continue;
    }
    const [wasReplicas, nowReplicas] = [Number(was.spec.replicas), Number(spec.replicas)];
    if (nowReplicas > wasReplicas)
      impacts.push({
        level: "benign",
        object,
        change: `replicas ${wasReplicas} -> ${nowReplicas}`,
        effect: "new nodes; no partition moves to them until a rebalance",
      });
    if (nowReplicas < wasReplicas)
      impacts.push({
        level: "disruptive",
        object,
        change: `replicas ${wasReplicas} -> ${nowReplicas}`,
        effect: "its highest node IDs are removed; their partition replicas must have been moved off (partition reassignment)",
      });
    if (changed(was.spec.resources, spec.resources))
      impacts.push({
        level: "disruptive",
        object,
        change: "resources",
        effect: `rolling restart of pool ${name} (RestartReason PodHasOldResourceRevision)`,
      });
    if (changed(was.spec.roles, spec.roles))
      impacts.push({ level: "disruptive", object, change: "roles", effect: `rolling restart of pool ${name} (PodHasOldRevision)` });
    if (changed(was.spec.storage, spec.storage) && !changed(withoutDeleteClaim(was.spec.storage), withoutDeleteClaim(spec.storage)))
      impacts.push({
        level: "benign",
        object,
        change: "storage: deleteClaim",
        effect: "recorded for when the pool's nodes are removed; no restart (StorageDiff IGNORABLE_PATHS)",
      });
    else if (changed(was.spec.storage, spec.storage))
      impacts.push({
        level: "disruptive",
        object,
        change: "storage",
        effect: `rolling restart of pool ${name}: volumes added (PodHasOldRevision) or grown (FileSystemResizeNeeded, where the StorageClass allows expansion)`,
      });
  }
  return impacts;
}

function topicImpacts(live: readonly LiveObject[], desired: DesiredKafkaObjects, brokerConfigWas: Record<string, unknown>): Impact[] {
  const impacts: Impact[] = [];
  const inherited = { was: brokerConfigWas, now: brokerConfigOf(desired.cluster) };
  for (const { name, resourceName, spec } of desired.topics) {
    const was = live.find((t) => t.name === resourceName);
    const object = `KafkaTopic ${desired.namespace}/${resourceName}`;
    if (!was) {
      impacts.push({ level: "benign", object, change: "created", effect: `topic ${name} is created` });
      continue;
    }
    const [wasPartitions, nowPartitions] = [Number(was.spec.partitions), Number(spec.partitions)];
    if (nowPartitions > wasPartitions)
      impacts.push({
        level: "disruptive",
        object,
        change: `partitions ${wasPartitions} -> ${nowPartitions}`,
        effect: "keyed records map to other partitions from now on: per-key ordering breaks across the change",
      });
    const config = keysChanged(was.spec.config, spec.config);
    const deleted = topicTruncations(
      (was.spec.config ?? {}) as Record<string, unknown>,
      (spec.config ?? {}) as Record<string, unknown>,
      inherited,
    );
    if (config.length > 0)
      impacts.push({
        level: deleted.length > 0 ? "destructive" : "benign",
        object,
        change: `config: ${config.join(", ")}`,
        effect:
          deleted.length > 0
            ? `data deleted: ${deleted.map((t) => `${t.what}: ${t.effect}`).join("; ")} (truncation.ts)`
            : "applied to the topic live; no restart",
      });
  }
  return impacts;
}

function userImpacts(live: readonly LiveObject[], desired: DesiredKafkaObjects): Impact[] {
  const impacts: Impact[] = [];
  for (const { name, spec } of desired.users) {
    const was = live.find((u) => u.name === name);
    const object = `KafkaUser ${desired.usersNamespace}/${name}`;
    if (!was) {
      impacts.push({ level: "benign", object, change: "created", effect: "new credentials Secret and ACLs" });
      continue;
    }
    if (changed(was.spec.authentication, spec.authentication))
      impacts.push({
        level: "disruptive",
        object,
        change: "authentication",
        effect: "client credentials change: the Secret is regenerated and ACLs move to the new principal (KafkaUserModel.java:194-215)",
      });
    const acls = aclImpact(aclEntries(was.spec.authorization), aclEntries(spec.authorization));
    if (acls) impacts.push({ object, change: "authorization", ...acls });
  }
  return impacts;
}

/**
 * A KafkaUser's ACLs as the User Operator applies them, as `allow|deny <operation> on <resource>`:
 * one per operation (SimpleAclRule.java `fromCrd` L144-150 at Strimzi 1.2.0), type `allow` and
 * host `*` unless the rule says otherwise, and none at all without `simple` authorization
 * (KafkaUserModel.java L133 sets no rules, so KafkaUserOperator.java L405-410 has the ACL operator
 * delete the user's ACLs).
 */
export function aclEntries(authorization: unknown): Set<string> {
  const simple = authorization as { type?: string; acls?: unknown[] } | undefined;
  if (simple?.type !== "simple") return new Set();
  return new Set(
    (simple.acls ?? []).flatMap((rule) => {
      const { type = "allow", host = "*", resource = {}, operations = [] } = rule as AclRuleSpec;
      return operations.map((operation) =>
        aclEntry({
          permission: type,
          operation,
          resourceType: resource.type ?? "",
          name: resource.name,
          patternType: resource.patternType,
          host,
        }),
      );
    }),
  );
}

/** One ACL, named as Strimzi's KafkaUser names it (resource types `topic`, `group`, `cluster`, `transactionalId`; operations `Read`, `Write`...). */
export interface AclParts {
  readonly permission: string;
  readonly operation: string;
  readonly resourceType: string;
  readonly name?: string | undefined;
  readonly patternType?: string | undefined;
  readonly host: string;
}

/**
 * One ACL as the impact compares it, whoever holds it (a KafkaUser, or Kafka's DescribeAcls for
 * owner kafka-api): `allow|deny <operation> on <resource>`. The cluster resource is always
 * `kafka-cluster`, whatever name a rule gives (SimpleAclRuleResource.java `fromCrd` L214-215); a
 * prefix is spelled out, since a literal name may end in "*" itself.
 */
export function aclEntry(acl: AclParts): string {
  const name =
    acl.resourceType === "cluster" || acl.name === undefined
      ? ""
      : acl.patternType === "prefix"
        ? ` ${acl.name}* (prefix)`
        : ` ${acl.name}`;
  return `${acl.permission} ${acl.operation} on ${acl.resourceType}${name}${acl.host === "*" ? "" : ` from ${acl.host}`}`;
}

interface AclRuleSpec {
  readonly type?: string;
  readonly host?: string;
  readonly resource?: { readonly type?: string; readonly name?: string; readonly patternType?: string };
  readonly operations?: readonly string[];
}

/** What an ACL change does to the user's clients: a lost allow or a new deny refuses calls they make. */
export function aclImpact(before: ReadonlySet<string>, after: ReadonlySet<string>): Pick<Impact, "level" | "effect"> | undefined {
  const only = (a: ReadonlySet<string>, b: ReadonlySet<string>, type: "allow" | "deny") =>
    [...a]
      .filter((e) => e.startsWith(`${type} `) && !b.has(e))
      .map((e) => e.slice(type.length + 1))
      .sort();
  const [lost, denied] = [only(before, after, "allow"), only(after, before, "deny")];
  const [gained, undenied] = [only(after, before, "allow"), only(before, after, "deny")];
  const more = [...gained, ...undenied.map((e) => `${e} (no longer denied)`)];
  if (lost.length + denied.length > 0)
    return {
      level: "disruptive",
      effect:
        `its clients lose ${[...lost, ...denied.map((e) => `${e} (denied)`)].join(", ")}: those calls fail with an authorization error` +
        (more.length ? `; they gain ${more.join(", ")}` : ""),
    };
  if (more.length > 0) return { level: "benign", effect: `its clients gain ${more.join(", ")}` };
  return undefined;
}

/** Each user's ACL entries as the program declares them (the rules a KafkaUser would carry, strimzi-entities.ts kafkaUserSpec). */
export function declaredAcls(users: DesiredKafkaObjects["users"]): Record<string, string[]> {
  return Object.fromEntries(users.map(({ name, spec }) => [name, [...aclEntries(spec.authorization)].sort()]));
}

/**
 * Owner kafka-api: each declared user's ACLs as Kafka holds them (kafka-api-live.ts) against those
 * the program declares. Kafka's rows carry no owner and the stack deletes only rows it declared, so
 * a row counts as the stack's only where the last `up` recorded it (data-safety.ts
 * KAFKA_API_ACLS_ANNOTATION) or the program declares it: one granted outside the stack is no loss.
 */
function kafkaApiAclImpacts(
  inKafka: Readonly<Record<string, readonly string[]>>,
  recorded: Readonly<Record<string, readonly string[]>>,
  desired: DesiredKafkaObjects,
): Impact[] {
  return Object.entries(declaredAcls(desired.users)).flatMap(([name, declared]) => {
    const stacks = new Set([...(recorded[name] ?? []), ...declared]);
    const acls = aclImpact(new Set((inKafka[name] ?? []).filter((e) => stacks.has(e))), new Set(declared));
    return acls ? [{ object: `Kafka ACLs of User:${name}`, change: "authorization", ...acls }] : [];
  });
}

function retiringImpacts(desired: DesiredKafkaObjects): Impact[] {
  return desired.retiring.map(({ object, mode }) =>
    mode === "delete"
      ? {
          level: "destructive" as const,
          object: where(object),
          change: "removed (retire: delete)",
          effect:
            object.kind === "KafkaTopic"
              ? "data deleted: the topic and its records"
              : object.kind === "KafkaUser"
                ? "client credentials deleted: its clients are cut off"
                : "its nodes are removed",
        }
      : {
          level: "benign" as const,
          object: where(object),
          change: "removed (retire: keep)",
          effect: "left in the cluster, no longer managed by this stack",
        },
  );
}

/** Every change's impact on the running cluster, destructive first. */
export function kafkaImpacts(live: LiveKafka, desired: DesiredKafkaObjects): Impact[] {
  return [
    ...retiringImpacts(desired),
    ...clusterImpacts(live.cluster, desired),
    ...poolImpacts(live.nodePools, desired),
    // Owner kafka-api: the topics and the users' ACLs as Kafka holds them, where they were read;
    // its users' credentials are not Strimzi objects, their changes show in the preview's own diff.
    ...(live.catalogueRead === false && live.topicsInKafka === undefined
      ? []
      : topicImpacts(comparedTopics(live), desired, brokerConfigOf(live.cluster?.spec))),
    ...(live.catalogueRead === false ? [] : userImpacts(live.users, desired)),
    ...(live.aclsInKafka ? kafkaApiAclImpacts(live.aclsInKafka, live.aclsDeclared ?? {}, desired) : []),
  ].sort((a, b) => LEVEL_ORDER.indexOf(a.level) - LEVEL_ORDER.indexOf(b.level));
}

const REPORT_HEADER = "Kafka impact:";
const REPORT_LINE = /^ {2}\[(destructive|disruptive|benign)\] (.+)$/;

/** The impacts as the preview prints them: one line each, a header counting the destructive and disruptive ones. */
export function impactReport(impacts: readonly Impact[]): string {
  if (impacts.length === 0) return `${REPORT_HEADER} none (no change to the cluster, its pools, topics or users)`;
  const count = (level: ImpactLevel) => impacts.filter((i) => i.level === level).length;
  return [
    `${REPORT_HEADER} ${count("destructive")} destructive, ${count("disruptive")} disruptive, ${count("benign")} without effect on clients`,
    ...impacts.map((i) => `  [${i.level}] ${i.object}: ${i.change}: ${i.effect}`),
  ].join("\n");
}

/** One line of a report read back: its level and what it says (`object: change: effect`). */
export interface ReportedImpact {
  readonly level: ImpactLevel;
  readonly text: string;
}

/**
 * A preview's report read back (the pull-request comment reads it from the event log): its lines,
 * [] when the report says none, undefined when the message is not a report.
 */
export function parseImpactReport(message: string): ReportedImpact[] | undefined {
  const [header, ...lines] = message.trim().split("\n");
  if (!header?.startsWith(REPORT_HEADER)) return undefined;
  return lines.flatMap((line) => {
    const m = REPORT_LINE.exec(line);
    return m ? [{ level: m[1] as ImpactLevel, text: m[2]! }] : [];
  });
}
