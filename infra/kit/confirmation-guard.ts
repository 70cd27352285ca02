/**
 * Confirmation guards: components with no children, protected until a confirmation is applied,
 * that depend on the resources they stand before. Deleting those resources (removing them from
 * the program, or `pulumi destroy`) then fails on the guard first, before any of them is deleted,
 * with or without `--skip-preview`, and the engine's message quotes the guard's URN, whose name
 * says what to confirm. Why it is first, from pulumi/pulumi v3.276.0 (pkg):
 * - `resource/deploy/step_generator.go` `ScheduleDeletes` runs deletions in antichains, the
 *   resource with the longest chain of dependencies first; a guard depends on what it stands
 *   before (a component dependency counts with its children: `resource/graph/dependency_graph.go`
 *   `DependenciesOf`), so it comes before all of them;
 * - `resource/deploy/step.go` `DeleteStep.Apply` refuses a protected resource, in a preview too,
 *   with `deleteProtectedError`, which quotes the URN, and so the guard's name;
 * - `resource/deploy/deployment_executor.go` then deletes nothing the refused deletion depends on.
 * The stack's destroy guard stands before every resource: without it, a `destroy --skip-preview`
 * deletes every stateless object that sorts before the first protected one (the operator, the
 * guards, the network policies) before it stops. Where the program cannot read what the cluster
 * holds (`owner: kafka-api` topics and users live in Kafka), one guard per object makes its
 * removal name its own `streamforge:retire` key.
 */
import * as pulumi from "@pulumi/pulumi";

/** The destroy guard's name, which the engine's refusal quotes: it says what to do. */
export const DESTROY_GUARD_NAME = "set-streamforge:retire.stack-and-up-before-destroy";

/** The name of the guard of one object, by its `streamforge:retire` key (`topics.market-klines`). */
export const retireGuardName = (key: string): string => `set-streamforge:retire.${key}-and-up-before-removing`;

export interface ConfirmationGuardArgs {
  /** The resources it stands before: it waits for each (through a component, for its children), so the engine deletes it before any of them. */
  readonly guards: readonly pulumi.Resource[];
  /**
   * The children that a provider's component (a `k8s.yaml.v2.ConfigGroup`) registered beneath one
   * of `guards`, as that component's `resources` output. The SDK records only the component itself
   * as a dependency (@pulumi/pulumi runtime/dependsOn.js), and after the guard's refusal the engine
   * skips only the guard's recorded dependencies and theirs, never a component's children
   * (`resource/graph/dependency_graph.go` `TransitiveDependenciesOf`): named here, they are skipped too.
   */
  readonly remoteChildren?: readonly pulumi.Output<pulumi.Resource[]>[];
  /** Whether their deletion is still refused: the confirmation is not applied. */
  readonly refuse: boolean;
}

export class ConfirmationGuard extends pulumi.ComponentResource {
  /** How many resources it stands before. */
  readonly guarded: number;

  constructor(name: string, args: ConfirmationGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    // dependsOn takes an Output of a list as well (runtime/dependsOn.js gatherExplicitDependencies).
    const dependsOn = [...args.guards, ...(args.remoteChildren ?? [])] as pulumi.Input<pulumi.Resource>[];
    super("streamforge:platform:ConfirmationGuard", name, {}, { ...opts, dependsOn, protect: args.refuse });
    this.guarded = args.guards.length;
    this.registerOutputs({ guarded: this.guarded, refuse: args.refuse });
  }
}

/** The Pulumi resources among an area's parts (its components, or objects of them, one level down). */
export function resourcesIn(parts: unknown): pulumi.Resource[] {
  if (pulumi.Resource.isInstance(parts)) return [parts];
  if (parts === null || typeof parts !== "object") return [];
  return Object.values(parts).filter((value): value is pulumi.Resource => pulumi.Resource.isInstance(value));
}

/** What a component exposes when a provider's components registered children beneath it (ConfirmationGuardArgs `remoteChildren`). */
export interface WithRemoteChildren {
  readonly remoteChildren: pulumi.Output<pulumi.Resource[]>;
}

/** The remote children that `resources` expose (`WithRemoteChildren`). */
export function remoteChildrenOf(resources: readonly pulumi.Resource[]): pulumi.Output<pulumi.Resource[]>[] {
  return resources.flatMap((r) => {
    const children = (r as Partial<WithRemoteChildren>).remoteChildren;
    return pulumi.Output.isInstance(children) ? [children] : [];
  });
}
