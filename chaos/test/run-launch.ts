/**
 * Runs `launch` with the real client, in a plain Node process: Jest's module system cannot load
 * @kubernetes/client-node (ES modules only), Node 22 can. Used by launch.itest.ts.
 *   ts-node --transpile-only chaos/test/run-launch.ts <scenario> <target JSON> <ISO time>
 */
import { clientKube, launch } from "../launch";
import type { WorkerScenario } from "../spec";

const [scenario, target, now] = process.argv.slice(2);
clientKube(process.env.KUBECONFIG, undefined)
  .then((kube) => launch(kube, scenario as WorkerScenario, JSON.parse(target!) as Parameters<typeof launch>[2], new Date(now!)))
  .then(
    (engine) => console.log(JSON.stringify(engine)),
    (err: unknown) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
