/**
 * The stack's destroy guard: a component with no children that depends on every other resource
 * of the stack and is protected until the stack's deletion is confirmed. `pulumi destroy` then
 * fails on it first, naming the confirmation, before anything else is deleted, with or without
 * `--skip-preview`. Why it is first, from pulumi/pulumi v3.276.0 (pkg):
 * - `resource/deploy/step_generator.go` `ScheduleDeletes` runs deletions in antichains, the
 *   resource with the longest chain of dependencies first; this one depends on all the others
 *   (a component dependency counts with its children: `resource/graph/dependency_graph.go`
 *   `DependenciesOf`), so it is alone in the first antichain;
 * - `resource/deploy/step.go` `DeleteStep.Apply` refuses a protected resource, in a preview too,
 *   with `deleteProtectedError`, which quotes the URN, and so this resource's name;
 * - `resource/deploy/deployment_executor.go` deletes nothing that a failed deletion depends on.
 * Without it, a `destroy --skip-preview` deletes every stateless object that sorts before the
 * first protected one (the operator, the guards, the network policies) before it stops.
 */
import * as pulumi from "@pulumi/pulumi";

/** Its name is what the engine's refusal quotes: it says what to do. */
export const DESTROY_GUARD_NAME = "set-streamforge:retire.stack-and-up-before-destroy";

export interface DestroyGuardArgs {
  /**
   * Every top-level resource of the stack: the guard waits for each (and, through a component,
   * for its children), so the engine deletes it before any of them.
   */
  readonly guards: readonly pulumi.Resource[];
  /** Whether the stack's deletion is still refused: `streamforge:retire.stack` unset. */
  readonly refuseDestroy: boolean;
}

export class DestroyGuard extends pulumi.ComponentResource {
  /** How many top-level resources it stands before. */
  readonly guarded: number;

  constructor(name: string, args: DestroyGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("streamforge:platform:DestroyGuard", name, {}, { ...opts, dependsOn: [...args.guards], protect: args.refuseDestroy });
    this.guarded = args.guards.length;
    this.registerOutputs({ guarded: this.guarded, refuseDestroy: args.refuseDestroy });
  }
}

/** The Pulumi resources among an area's parts (its components, or objects of them, one level down). */
export function resourcesIn(parts: unknown): pulumi.Resource[] {
  if (pulumi.Resource.isInstance(parts)) return [parts];
  if (parts === null || typeof parts !== "object") return [];
  return Object.values(parts).filter((value): value is pulumi.Resource => pulumi.Resource.isInstance(value));
}
