import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export type PodSecurityLevel = "restricted" | "baseline" | "privileged";
/** From the least to the most strict. */
const STRICTNESS: readonly PodSecurityLevel[] = ["privileged", "baseline", "restricted"];

/** Pod Security admission labels: enforce `level`, always warn and audit at restricted. */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
  };
}

export interface NamespaceSpec {
  readonly name: string;
  readonly podSecurity: PodSecurityLevel;
  /** Holds data or credentials (Kafka's volumes, topics, users' Secrets): deleting it would lose them. */
  readonly holdsData?: boolean;
}

export interface PlatformNamespacesArgs {
  /** Namespaces to declare; a name listed twice keeps its strictest level. */
  readonly namespaces: readonly NamespaceSpec[];
  /** Create them; when false they are assumed to exist and nothing is declared. */
  readonly create: boolean;
  /** The Pulumi options of the namespaces that hold data (infra/kafka/data-safety.ts `keepOptions`). */
  readonly keepData: { readonly protect: boolean; readonly retainOnDelete: boolean };
}

/** The namespaces the platform runs in, each with Pod Security admission labels. */
export class PlatformNamespaces extends pulumi.ComponentResource {
  /** Namespace name -> resource, for `dependsOn`; empty when `create` is false. */
  readonly byName: ReadonlyMap<string, k8s.core.v1.Namespace>;
  /** Every namespace the areas asked for, sorted, each at its strictest level; declared only where `create` is true. */
  readonly levels: Readonly<Record<string, PodSecurityLevel>>;

  constructor(name: string, args: PlatformNamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:platform:Namespaces", name, {}, opts);
    const levels = new Map<string, PodSecurityLevel>();
    const holdData = new Set(args.namespaces.filter((ns) => ns.holdsData).map((ns) => ns.name));
    for (const ns of args.namespaces) {
      const known = levels.get(ns.name);
      levels.set(ns.name, known !== undefined && STRICTNESS.indexOf(known) > STRICTNESS.indexOf(ns.podSecurity) ? known : ns.podSecurity);
    }
    const byName = new Map<string, k8s.core.v1.Namespace>();
    if (args.create) {
      for (const [ns, level] of [...levels].sort(([a], [b]) => a.localeCompare(b))) {
        byName.set(
          ns,
          new k8s.core.v1.Namespace(
            `${name}-${ns}`,
            { metadata: { name: ns, labels: { ...podSecurityLabels(level), "app.kubernetes.io/part-of": "streamforge" } } },
            { parent: this, ...(holdData.has(ns) ? args.keepData : {}) },
          ),
        );
      }
    }
    this.byName = byName;
    this.levels = Object.fromEntries([...levels].sort(([a], [b]) => a.localeCompare(b)));
    this.registerOutputs({ levels: this.levels, namespaces: [...byName.values()] });
  }

  /** Resources to depend on before creating objects in `namespaces`. */
  dependencies(...namespaces: string[]): k8s.core.v1.Namespace[] {
    return namespaces.flatMap((ns) => {
      const resource = this.byName.get(ns);
      return resource ? [resource] : [];
    });
  }
}

/**
 * Turns off the token of `namespace`'s own `default` account: a server-side apply of that one
 * field (the namespace controller made the account and keeps the rest).
 */
export function defaultAccountWithoutToken(
  resourceName: string,
  namespace: string,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.ServiceAccountPatch {
  return new k8s.core.v1.ServiceAccountPatch(
    resourceName,
    { metadata: { name: "default", namespace, annotations: { "pulumi.com/patchForce": "true" } }, automountServiceAccountToken: false },
    opts,
  );
}
