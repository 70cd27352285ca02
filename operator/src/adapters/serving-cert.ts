/**
 * The relaunch guard's certificate at its edges: kept in one Secret the stack creates empty
 * (issued by ./issue-cert.ts), and trusted through the caBundle of the guard's own entry in its
 * ValidatingWebhookConfiguration, the way webhooks managed by Gatekeeper's cert-controller and
 * Kyverno keep theirs. The CA's key is never stored.
 */
import * as k8s from "@kubernetes/client-node";
import { type ServingCert, carriedOver, renewalReason, servingCertData, servingCertOf } from "../core/serving-cert.js";
import { issueServingCert } from "./issue-cert.js";

const isStatus = (err: unknown, code: number): boolean => err instanceof k8s.ApiException && err.code === code;

/**
 * The certificate in the Secret `ref`, renewed there first when it cannot serve `hosts`
 * (core/serving-cert.ts renewalReason). Replicas race on the Secret's resourceVersion: the loser
 * of a 409 reads the winner's certificate and serves it.
 */
export async function currentServingCert(
  core: k8s.CoreV1Api,
  ref: { readonly namespace: string; readonly name: string },
  hosts: readonly string[],
  now: () => number,
): Promise<{ cert: ServingCert; renewed?: string }> {
  for (let attempt = 0; ; attempt++) {
    const secret = await core.readNamespacedSecret(ref);
    const held = servingCertOf(secret.data);
    const reason = renewalReason(held, hosts, now());
    if (!reason) return { cert: held! };
    const cert = issueServingCert(hosts, now(), carriedOver(held, hosts, now()));
    try {
      // Replaced at the version read: only one replica's renewal lands.
      await core.replaceNamespacedSecret({ ...ref, body: { ...secret, data: { ...secret.data, ...servingCertData(cert) } } });
      return { cert, renewed: reason };
    } catch (err) {
      if (!isStatus(err, 409) || attempt >= 3) throw err;
    }
  }
}

const applyPatch = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.ServerSideApply);
/** The field manager of the caBundle: the stack's (Pulumi's) apply never sets it, so neither undoes the other. */
export const CA_BUNDLE_MANAGER = "streamforge-relaunch-guard";

/**
 * Makes the entry `webhook` of the configuration `configuration` trust `caBundle` (PEM), with a
 * server-side apply of that one field. "absent" when the configuration or the entry does not
 * exist (yet: the stack creates it once the guard is ready); the guard may not create one.
 */
export async function trustInConfiguration(
  admission: k8s.AdmissionregistrationV1Api,
  configuration: string,
  webhook: string,
  caBundle: string,
): Promise<"current" | "patched" | "absent"> {
  let vwc: k8s.V1ValidatingWebhookConfiguration;
  try {
    vwc = await admission.readValidatingWebhookConfiguration({ name: configuration });
  } catch (err) {
    if (isStatus(err, 404)) return "absent";
    throw err;
  }
  const entry = vwc.webhooks?.find((w) => w.name === webhook);
  if (!entry) return "absent";
  const wanted = Buffer.from(caBundle, "utf8").toString("base64");
  // client-node reads the byte field caBundle as its base64 text.
  if (String(entry.clientConfig.caBundle ?? "") === wanted) return "current";
  await admission.patchValidatingWebhookConfiguration(
    {
      name: configuration,
      fieldManager: CA_BUNDLE_MANAGER,
      force: true,
      body: {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingWebhookConfiguration",
        metadata: { name: configuration },
        webhooks: [{ name: webhook, clientConfig: { caBundle: wanted } }],
      },
    },
    applyPatch,
  );
  return "patched";
}
