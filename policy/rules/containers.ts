/**
 * Every container declares what it needs and how far it may go: CPU and memory requests (the
 * scheduler places it on them) and a memory limit (the kernel kills it there, not the node).
 * A CPU limit is advisory: it throttles, and queue-manager deliberately has none by default.
 */
import { type Subject, containersOf, defineRule, describeContainer, get, isWorkload, podSpecOf, shown } from "./common";

const WORKLOADS = "Kubernetes workloads with a pod template (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Rollout)";

function quantity(value: unknown): boolean {
  return (typeof value === "string" && value.trim() !== "") || (typeof value === "number" && value > 0);
}

function missing(subject: Subject, fields: readonly (readonly ["requests" | "limits", "cpu" | "memory"])[]): string[] {
  const pod = podSpecOf(subject);
  if (!pod) return [];
  const out: string[] = [];
  for (const c of containersOf(pod))
    for (const [section, resource] of fields) {
      const value = get(c.container, "resources", section, resource);
      if (!quantity(value))
        out.push(
          `${describeContainer(subject, c)}: resources.${section}.${resource}: expected a ${resource === "cpu" ? "CPU" : "memory"} ${
            section === "requests" ? "request" : "limit"
          } such as ${resource === "cpu" ? '"100m"' : '"256Mi"'}; found ${shown(value)}`,
        );
    }
  return out;
}

export const containerResources = defineRule({
  name: "container-resources",
  description: "Every container has CPU and memory requests and a memory limit.",
  enforcementLevel: "mandatory",
  appliesTo: isWorkload,
  scope: WORKLOADS,
  check: (subject) =>
    missing(subject, [
      ["requests", "cpu"],
      ["requests", "memory"],
      ["limits", "memory"],
    ]),
});

export const containerCpuLimit = defineRule({
  name: "container-cpu-limit",
  description: "Every container has a CPU limit (advisory: a limit throttles, so some workloads leave it out on purpose).",
  enforcementLevel: "advisory",
  appliesTo: isWorkload,
  scope: WORKLOADS,
  check: (subject) => missing(subject, [["limits", "cpu"]]),
});

export const containerRules = [containerResources, containerCpuLimit];
