/**
 * A load balancer is reachable from wherever its source ranges say, and from everywhere when they
 * say nothing. So every Service of type LoadBalancer, and every Strimzi listener of type
 * `loadbalancer` (Strimzi makes a LoadBalancer Service of it), names its source ranges, and none
 * of them is the whole internet.
 */
import { type Subject, asArray, asRecord, asString, defineRule, describe, get, isKind, shown } from "./common";

const OPEN = new Set(["0.0.0.0/0", "::/0"]);

function rangeProblems(where: string, field: string, value: unknown): string[] {
  const ranges = asArray(value);
  if (ranges.length === 0)
    return [
      `${where}: ${field}: expected the CIDR ranges allowed to reach the load balancer, e.g. ["203.0.113.0/24"]; found ${shown(value)}`,
    ];
  const open = ranges.filter((r) => typeof r === "string" && OPEN.has(r.trim()));
  return open.length > 0 ? [`${where}: ${field}: expected named ranges, not the whole internet; found ${shown(open)}`] : [];
}

const isService = (type: string) => isKind(type, "core", "Service");
const isKafka = (type: string) => isKind(type, "kafka.strimzi.io", "Kafka");

export function loadBalancerViolations(subject: Subject): string[] {
  const where = describe(subject);
  if (isService(subject.type)) {
    if (get(subject.props, "spec", "type") !== "LoadBalancer") return [];
    return rangeProblems(where, "spec.loadBalancerSourceRanges", get(subject.props, "spec", "loadBalancerSourceRanges"));
  }
  if (isKafka(subject.type))
    return asArray(get(subject.props, "spec", "kafka", "listeners")).flatMap((l, i) => {
      const listener = asRecord(l);
      if (listener.type !== "loadbalancer") return [];
      const at = `spec.kafka.listeners[${i}] ("${asString(listener.name) ?? `#${i}`}").configuration.loadBalancerSourceRanges`;
      return rangeProblems(where, at, get(listener, "configuration", "loadBalancerSourceRanges"));
    });
  return [];
}

export const loadBalancerSourceRanges = defineRule({
  name: "loadbalancer-source-ranges",
  description: "Services of type LoadBalancer (and Strimzi loadbalancer listeners) name their allowed source ranges.",
  enforcementLevel: "mandatory",
  appliesTo: (type) => isService(type) || isKafka(type),
  scope: "Kubernetes Services and Strimzi Kafka resources",
  check: loadBalancerViolations,
});

// ---- Exposure -------------------------------------------------------------------------------

/**
 * A NodePort opens a port on every node and a LoadBalancer puts the Service in front of a network:
 * in production, only the ones named in the rule's `allowed` (Pulumi resource name, and
 * `<resource>/<listener>` for a Strimzi listener, which becomes such a Service), with the reason.
 * By default that is Kafka's `external` listener: the one way clients outside the cluster reach
 * it, held to TLS with authentication (kafka-production-listeners) and named source ranges
 * (loadbalancer-source-ranges).
 */
export interface ExposureConfig {
  readonly allowed?: Readonly<Record<string, string>>;
}

export const DEFAULT_EXPOSURE_ALLOWED: Readonly<Record<string, string>> = {
  "kafka-kafka/external":
    "Kafka's clients outside the cluster; TLS and SCRAM required (kafka-production-listeners), source ranges named (loadbalancer-source-ranges).",
};

const EXPOSED_SERVICE = ["NodePort", "LoadBalancer"];
const EXPOSED_LISTENER = ["nodeport", "loadbalancer"];

export function exposureViolations(subject: Subject, config: ExposureConfig = {}): string[] {
  const allowed = config.allowed ?? DEFAULT_EXPOSURE_ALLOWED;
  const isAllowed = (key: string) => typeof allowed[key] === "string" && allowed[key].trim() !== "";
  const where = describe(subject);
  const hint = (key: string) => `or name "${key}" with a reason in the rule's config "allowed"`;
  if (isService(subject.type)) {
    const type = get(subject.props, "spec", "type");
    if (!EXPOSED_SERVICE.includes(String(type)) || isAllowed(subject.name)) return [];
    return [`${where}: spec.type: expected ClusterIP in production (${hint(subject.name)}); found ${shown(type)}`];
  }
  if (isKafka(subject.type))
    return asArray(get(subject.props, "spec", "kafka", "listeners")).flatMap((l, i) => {
      const listener = asRecord(l);
      const name = asString(listener.name) ?? `#${i}`;
      const key = `${subject.name}/${name}`;
      if (!EXPOSED_LISTENER.includes(String(listener.type)) || isAllowed(key)) return [];
      return [
        `${where}: spec.kafka.listeners[${i}] ("${name}").type: expected internal or cluster-ip in production (${hint(key)}); found ${shown(listener.type)}`,
      ];
    });
  return [];
}

export const serviceExposure = defineRule<ExposureConfig>({
  name: "service-exposure",
  description:
    "In production, no NodePort or LoadBalancer Service (or Strimzi listener) unless named, with a reason, in the rule's config.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      allowed: {
        type: "object",
        additionalProperties: { type: "string", minLength: 1 },
        description:
          'Pulumi resource name (or "<resource>/<listener>" for a Strimzi listener) -> why it may be a NodePort or LoadBalancer.',
        default: DEFAULT_EXPOSURE_ALLOWED,
      },
    },
  },
  appliesTo: (type) => isService(type) || isKafka(type),
  scope: "Kubernetes Services and Strimzi Kafka resources",
  productionOnly: true,
  check: (subject, { config }) => exposureViolations(subject, config),
});

export const serviceRules = [loadBalancerSourceRanges, serviceExposure];
