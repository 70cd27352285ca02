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

export const serviceRules = [loadBalancerSourceRanges];
