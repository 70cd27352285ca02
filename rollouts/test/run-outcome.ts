/**
 * Runs RolloutOutcome's wait with the real client and ports, in a plain Node process: Jest's module
 * system cannot load @kubernetes/client-node (ES modules only), Node 22 can. Progress lines go to
 * stdout as in the dynamic provider; the verdict's message to stderr, exit 1. Used by controller.itest.ts.
 *   ts-node --transpile-only rollouts/test/run-outcome.ts <namespace> <timeoutSeconds> [controllerGraceSeconds]
 */
import { awaitRolloutOutcome, clusterPorts } from "../outcome";

const [namespace, timeout, grace] = process.argv.slice(2);
clusterPorts({ namespace: namespace!, name: "queue-manager", kubeconfig: process.env.KUBECONFIG })
  .then((ports) =>
    awaitRolloutOutcome(ports, {
      id: `${namespace}/queue-manager`,
      timeoutSeconds: Number(timeout),
      pollMs: 500,
      ...(grace === undefined ? {} : { controllerGraceSeconds: Number(grace) }),
    }),
  )
  .then(
    (result) => console.log(`RESULT ${JSON.stringify(result)}`),
    (err: unknown) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
