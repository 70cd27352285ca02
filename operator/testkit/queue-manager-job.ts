/**
 * A Job as queue-manager's job_launcher submits it: named `<queue_id>-<target>`, no labels, one
 * container named after the target with the queue in its env (QUEUE_ID first). Part of the test
 * kit: the operator's fake world (test/sim.ts) and bench, the chaos drill (chaos/drill/traffic.ts)
 * and its tests build their Jobs with it, each with its own image and the rest of the env.
 *
 * Plain data, and it imports nothing: the program loads it as CommonJS (tsconfig.json's ts-node
 * `moduleTypes`), the operator's tests and bench as an ES module.
 */

/** A container env entry, as in a Job manifest (a type, not an interface, so that it fits index-signature shapes such as JobManifest's). */
export type QueueManagerEnvVar = {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef: { readonly name: string; readonly key: string } };
};

export interface QueueManagerJobArgs {
  readonly queueId: string;
  readonly target: string;
  /** The Job's name; `<queueId>-<target>` when unset. */
  readonly name?: string;
  /** The Job's namespace; none in the manifest when unset. */
  readonly namespace?: string;
  readonly image: string;
  /** None in the manifest when unset. */
  readonly imagePullPolicy?: string;
  /** The container's env after QUEUE_ID. */
  readonly env: readonly QueueManagerEnvVar[];
}

export function queueManagerJob(args: QueueManagerJobArgs) {
  const { queueId, target, namespace, imagePullPolicy } = args;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: args.name ?? `${queueId}-${target}`, ...(namespace === undefined ? {} : { namespace }) },
    spec: {
      backoffLimit: 4,
      ttlSecondsAfterFinished: 3600,
      template: {
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: target,
              image: args.image,
              ...(imagePullPolicy === undefined ? {} : { imagePullPolicy }),
              env: [{ name: "QUEUE_ID", value: queueId }, ...args.env],
            },
          ],
        },
      },
    },
  };
}
