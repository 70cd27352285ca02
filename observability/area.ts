/** The observability area's descriptor: alerts, scrape targets and dashboards, where the stack's Prometheus has the CRDs. */
import { type AreaStack, defineAreaDescriptor } from "../infra/kit/area";
import { Observability } from "./component";
import { observabilityArea } from "./config";
import { type ObservabilityContextConfig, observabilityContext } from "./spec";

function create({ config, providers, namespaces }: AreaStack<ObservabilityContextConfig>): Observability | undefined {
  if (!config.observability.enabled) return undefined;
  return new Observability(
    "observability",
    { observability: config.observability, context: observabilityContext(config) },
    { providers, dependsOn: namespaces.dependencies(config.kafka.namespace, config.apps.namespace) },
  );
}

export const observabilityAreaDescriptor = defineAreaDescriptor({ name: "observability", config: observabilityArea, create });
