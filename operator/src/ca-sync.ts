/**
 * `node dist/ca-sync.js`: one pass of the Kafka CA syncer (a CronJob of the stack, infra/kafka/ca-sync.ts).
 * Reads Strimzi's cluster CA Secret and rewrites the apps namespace's copy when it differs, so a
 * renewed CA reaches the clients without a `pulumi up`. Its Role reads that one Secret and writes
 * that one copy. Prints one JSON line; exits 0 when the copy is current, 1 naming what failed, 2
 * on bad settings. Certificates are public, but only key names are printed.
 */
import * as k8s from "@kubernetes/client-node";
import { z } from "zod";
import { apiError } from "./adapters/kube.js";
import { caCopyChange } from "./core/ca-copy.js";

const dns = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const secretRef = z
  .string()
  .regex(/^[^/]+\/[^/]+$/, "expected <namespace>/<name>")
  .transform((s) => {
    const [namespace, name] = s.split("/") as [string, string];
    return { namespace, name };
  })
  .refine((r) => dns.test(r.namespace) && dns.test(r.name), "expected DNS names");
const settingsSchema = z.object({ CA_SOURCE: secretRef, CA_TARGET: secretRef });

async function main(): Promise<number> {
  const parsed = settingsSchema.safeParse(process.env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) process.stderr.write(`${issue.path.join(".")}: ${issue.message}\n`);
    return 2;
  }
  const { CA_SOURCE: source, CA_TARGET: target } = parsed.data;
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const step = { at: "read source" };
  try {
    const from = await core.readNamespacedSecret(source);
    step.at = "read copy";
    const copy = await core.readNamespacedSecret(target);
    const change = caCopyChange(from.data, copy.data);
    if (change) {
      step.at = "write copy";
      // Replaced at the version read: a concurrent writer makes this run fail, and the next one redo it.
      await core.replaceNamespacedSecret({ ...target, body: { ...copy, data: change.data } });
    }
    const keys = { added: change?.added ?? [], changed: change?.changed ?? [], removed: change?.removed ?? [] };
    console.log(JSON.stringify({ msg: change ? "ca copy updated" : "ca copy current", source, target, ...keys }));
    return 0;
  } catch (err) {
    const e = apiError(err);
    console.log(JSON.stringify({ msg: "ca sync failed", step: step.at, status: e.status ?? null, reason: e.message, source, target }));
    return 1;
  }
}

process.exitCode = await main();
