/**
 * The cluster a stack deploys to and what every area shares there: the environment, the target
 * (kubeconfig and context of the explicit Kubernetes provider), namespaces, the monitoring
 * namespace that may scrape metrics, and where the API server is for every workload's egress.
 */
import { z } from "zod";
import { type AreaConfig, defineArea, dnsLabel, dnsSubdomain, ipv4Cidr, problem } from "../kit/config-kit";
import { clusterTargetSchema } from "../kit/provider";
import { KONNECTIVITY_AGENTS } from "../kit/network-spec";

export const ENVIRONMENTS = ["local", "dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** How to name a cluster, shown whenever a stack names none. */
export const HOW_TO_SET_CLUSTER =
  "set the cluster this stack deploys to: `pulumi config set --path streamforge:cluster.context <kubeconfig context>` " +
  "(and optionally `--path streamforge:cluster.kubeconfig <path>`); without it `pulumi up` would deploy into whatever context is current";

/** How to find the API server's address, shown whenever a stack names none. */
export const HOW_TO_FIND_API_SERVER =
  "`kubectl get endpoints kubernetes -n default` lists its addresses and port; " +
  "set them with `pulumi config set --path streamforge:network.apiServerCidr <address>/32` (and `network.apiServerPorts`)";

/** How to name the deployers, shown whenever a stack names none. */
export const HOW_TO_NAME_DEPLOYERS =
  "run `kubectl auth whoami` as the identity that runs `pulumi up` (CI's and yours) and set its user or one of its groups: " +
  "`pulumi config set --path 'streamforge:apps.deployers.groups[0]' <group>` (or `apps.deployers.users[0]`)";

/** Kubernetes users and groups, as `kubectl auth whoami` names them. */
const identities = z.strictObject({ users: z.array(z.string().min(1)).default([]), groups: z.array(z.string().min(1)).default([]) });

const port = z.int().min(1).max(65535);

const networkSchema = z.strictObject({
  /**
   * The API server's endpoint addresses: NetworkPolicy matches the endpoint behind the
   * `kubernetes` Service, and the API server has no pod labels to select. Every workload that
   * talks to the API server reaches it here, and only here.
   */
  apiServerCidr: ipv4Cidr,
  /** The ports the API server's endpoints listen on (443 on managed clusters, 6443 on kubeadm). */
  apiServerPorts: z.array(port).min(1).default([443, 6443]),
  /**
   * The pods the API server's calls to webhooks come through, besides its own address: Konnectivity's
   * agents on GKE and AKS by default (infra/kit/network-spec.ts KONNECTIVITY_AGENTS); `[]` where
   * the API server calls directly.
   */
  apiServerTunnel: z
    .array(
      z.strictObject({
        namespace: dnsLabel,
        podLabels: z
          .record(z.string(), z.string())
          .refine((labels) => Object.keys(labels).length > 0, "at least one pod label: without one, every pod of the namespace could call"),
      }),
    )
    .default(KONNECTIVITY_AGENTS.map((p) => ({ namespace: p.namespace, podLabels: { ...p.podLabels } }))),
  /** prod refuses an egress CIDR with a shorter prefix (a wider range) than this. */
  minEgressPrefixLength: z.int().min(1).max(32).default(16),
});

export const clusterArea = defineArea({
  keys: {
    environment: z.enum(ENVIRONMENTS),
    /** The cluster the stack's explicit Kubernetes provider talks to. */
    cluster: clusterTargetSchema.optional(),
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
        /**
         * Egress the worker Jobs need beyond Kafka and DNS, e.g. ArangoDB: each allowance opens
         * `ports` to CIDRs (`{cidr}`) or to a namespace's pods (`{namespace, podLabels?}`).
         * Empty: the workers reach Kafka and DNS only.
         */
        workerEgress: z
          .array(
            z.strictObject({
              name: dnsLabel,
              ports: z.array(port).min(1),
              to: z
                .array(
                  z.union([
                    z.strictObject({ cidr: ipv4Cidr }),
                    z.strictObject({ namespace: dnsLabel, podLabels: z.record(z.string(), z.string()).optional() }),
                  ]),
                )
                .min(1),
            }),
          )
          .default([]),
        /**
         * The user a pod in the apps namespaces runs as when it names none (queue-manager's Jobs
         * name none): the namespaces enforce Pod Security `restricted`, and their pods get its
         * defaults (infra/cluster/pod-defaults-spec.ts). Never 0.
         */
        defaultRunAsUser: z.int().min(1).max(2147483647).default(65532),
        /**
         * The PriorityClasses a pod in the apps namespaces may carry (infra/cluster/workload-guard-spec.ts).
         * None by default: a class decides what a pod may preempt. List the cluster's
         * `globalDefault` class if it has one: Kubernetes writes it into every pod that names none.
         */
        priorityClasses: z.array(dnsSubdomain).default([]),
        /**
         * The RuntimeClasses a pod in the apps namespaces may name (a sandbox such as gVisor's);
         * none by default: a runtime handler is the node's, and some hand over its devices.
         */
        runtimeClasses: z.array(dnsSubdomain).default([]),
        /**
         * The CSI drivers whose inline volumes a pod in the apps namespaces may mount (a secrets
         * store's, for the apps' other credentials); none by default: a driver decides what a
         * volume reads, and a cluster may run one that hands over more than the pod's own.
         */
        csiDrivers: z.array(dnsSubdomain).default([]),
        /**
         * The PersistentVolumeClaims a pod in the apps namespaces may mount by name; none by default:
         * a claim holds whatever its workload wrote, and any pod of the namespace could otherwise
         * mount another's (a database's data, a generic ephemeral volume's claim `<pod>-<volume>`).
         */
        volumeClaims: z.array(dnsSubdomain).default([]),
        /**
         * The identities that run `pulumi up` (Kubernetes user names and groups, as
         * `kubectl auth whoami` shows them): the only ones that may write the platform's
         * Deployments and Rollouts in the apps namespaces (infra/cluster/platform-workloads-spec.ts).
         * Required in every stack: a default would either trust everyone or lock the stack out.
         */
        deployers: identities.optional(),
        /**
         * The people on call (users and groups): bound in the apps namespaces to a Role that runs
         * the runbook's procedures without `edit` (no Secrets, no exec, no new workloads;
         * infra/cluster/responders-spec.ts). Empty: the Role exists, bound to nobody.
         */
        responders: identities.default({ users: [], groups: [] }),
        /**
         * The identities previews run as (the pipeline's preview kubeconfig): they may list the
         * stack's Kafka objects, which the program reads before declaring anything, and nothing
         * else (infra/kafka/previewers-spec.ts). Empty: the Roles exist, bound to nobody.
         */
        previewers: identities.default({ users: [], groups: [] }),
      })
      .default({
        namespace: "stf",
        allowIngress: [],
        workerEgress: [],
        defaultRunAsUser: 65532,
        priorityClasses: [],
        runtimeClasses: [],
        csiDrivers: [],
        volumeClaims: [],
        responders: { users: [], groups: [] },
        previewers: { users: [], groups: [] },
      }),
    monitoring: z
      .strictObject({
        /** Namespace of the Prometheus that scrapes the platform: the only one let in to metrics ports. */
        namespace: dnsLabel.default("monitoring"),
      })
      .default({ namespace: "monitoring" }),
    /** Where the API server is, and how wide an egress range may be; required in every stack. */
    network: networkSchema.optional(),
  },
  secrets: [],
  rules: (config) => {
    const problems = [];
    // A stack must name its cluster: a kubeconfig file that pins one, or a context.
    if (config.cluster?.context === undefined && config.cluster?.kubeconfig === undefined)
      problems.push(problem("cluster", [], `expected a kubeconfig context or file; found nothing. To fix it, ${HOW_TO_SET_CLUSTER}`));
    // No default: "anywhere" would be the only safe-to-assume value, and it is the one to avoid.
    if (config.network === undefined)
      problems.push(
        problem(
          "network",
          ["apiServerCidr"],
          `expected the API server's endpoint address as a CIDR such as 10.0.0.2/32; found nothing. ${HOW_TO_FIND_API_SERVER}`,
        ),
      );
    const deployers = config.apps.deployers;
    if (deployers === undefined || deployers.users.length + deployers.groups.length === 0)
      problems.push(
        problem(
          "apps",
          ["deployers"],
          `expected the users or groups that run \`pulumi up\`; found ${deployers === undefined ? "nothing" : "empty lists"}. ${HOW_TO_NAME_DEPLOYERS}`,
        ),
      );
    return problems;
  },
});

export type ClusterAreaConfig = AreaConfig<typeof clusterArea>;
export type NetworkConfig = z.output<typeof networkSchema>;
