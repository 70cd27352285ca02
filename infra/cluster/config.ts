/**
 * The cluster a stack deploys to and what every area shares there: the environment, the target
 * (kubeconfig and context of the explicit Kubernetes provider), namespaces and the monitoring
 * namespace that may scrape metrics.
 */
import { z } from "zod";
import { type AreaConfig, defineArea, dnsLabel, problem } from "../config-kit";

export const ENVIRONMENTS = ["local", "dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** How to name a cluster, shown whenever a stack names none. */
export const HOW_TO_SET_CLUSTER =
  "set the cluster this stack deploys to: `pulumi config set --path streamforge:cluster.context <kubeconfig context>` " +
  "(and optionally `--path streamforge:cluster.kubeconfig <path>`); without it `pulumi up` would deploy into whatever context is current";

const clusterSchema = z.strictObject({
  /** Path of the kubeconfig file (relative to the project directory); default: $KUBECONFIG or ~/.kube/config. */
  kubeconfig: z.string().min(1).optional(),
  /** Context of the kubeconfig to use; default: the kubeconfig's current-context (only with `kubeconfig`). */
  context: z.string().min(1).optional(),
});

export const clusterArea = defineArea({
  keys: {
    environment: z.enum(ENVIRONMENTS),
    /** The cluster the stack's explicit Kubernetes provider talks to. */
    cluster: clusterSchema.optional(),
    namespaces: z
      .strictObject({
        /** Create the namespaces this stack uses; false where they are managed elsewhere. */
        create: z.boolean().default(true),
      })
      .default({ create: true }),
    apps: z
      .strictObject({
        /** Namespace of the StreamForge services (queue-manager, worker Jobs) and of their Kafka credentials. */
        namespace: dnsLabel.default("stf"),
        /**
         * Ingress the apps namespace lets in on top of its default deny, e.g. queue-manager's port
         * from the ingress controller's namespace. Empty: nothing reaches the apps.
         */
        allowIngress: z
          .array(
            z.strictObject({
              name: dnsLabel,
              podLabels: z.record(z.string(), z.string()).refine((l) => Object.keys(l).length > 0, "at least one label"),
              ports: z.array(z.int().min(1).max(65535)).min(1),
              fromNamespaces: z.array(dnsLabel).min(1),
            }),
          )
          .default([]),
      })
      .default({ namespace: "stf", allowIngress: [] }),
    monitoring: z
      .strictObject({
        /** Namespace of the Prometheus that scrapes the platform: the only one let in to metrics ports. */
        namespace: dnsLabel.default("monitoring"),
      })
      .default({ namespace: "monitoring" }),
  },
  secrets: [],
  rules: (config) => {
    // A stack must name its cluster: a kubeconfig file that pins one, or a context.
    if (config.cluster?.context === undefined && config.cluster?.kubeconfig === undefined)
      return [problem("cluster", [], `expected a kubeconfig context or file; found nothing. To fix it, ${HOW_TO_SET_CLUSTER}`)];
    return [];
  },
});

export type ClusterAreaConfig = AreaConfig<typeof clusterArea>;
export type ClusterTarget = z.output<typeof clusterSchema>;
