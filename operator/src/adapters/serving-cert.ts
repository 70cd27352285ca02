/**
 * The relaunch guard's certificate at its edges: issued here (node-forge signs, Node generates the
 * keys), kept in one Secret the stack creates empty, and trusted through the caBundle of the
 * guard's own entry in its ValidatingWebhookConfiguration, the way controller-runtime webhooks
 * managed by Gatekeeper's cert-controller and Kyverno keep theirs. The CA's key is never stored:
 * each renewal issues a new CA (core/serving-cert.ts keeps the previous one trusted).
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import forge from "node-forge";
import {
  CERT_VALIDITY_MS,
  CLOCK_SKEW_MS,
  type ServingCert,
  carriedOver,
  renewalReason,
  servingCertData,
  servingCertOf,
} from "../core/serving-cert.js";

function rsaKeys(): { pem: string; privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return {
    pem: privateKey,
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    publicKey: forge.pki.publicKeyFromPem(publicKey),
  };
}

function certificate(publicKey: forge.pki.PublicKey, now: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive 128-bit serial (RFC 5280 4.1.2.2): the top bit cleared.
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  cert.serialNumber = serial.toString("hex");
  cert.validity.notBefore = new Date(now - CLOCK_SKEW_MS);
  cert.validity.notAfter = new Date(now + CERT_VALIDITY_MS);
  return cert;
}

/** A new CA and a certificate it signs for `hosts` (DNS names or IPv4 addresses); its bundle also trusts `keep` (PEM certificates). */
export function issueServingCert(hosts: readonly string[], now: number, keep: readonly string[] = []): ServingCert {
  const caKeys = rsaKeys();
  const ca = certificate(caKeys.publicKey, now);
  const caName = [{ name: "commonName", value: `streamforge-relaunch-guard-ca-${now}` }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const keys = rsaKeys();
  const cert = certificate(keys.publicKey, now);
  cert.setSubject([{ name: "commonName", value: hosts[0] ?? "relaunch-guard" }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    // Names are checked in the SAN only (Go's crypto/x509 ignores the common name).
    { name: "subjectAltName", altNames: hosts.map((h) => (/^[\d.]+$/.test(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
    { name: "authorityKeyIdentifier", keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());
  const caPem = forge.pki.certificateToPem(ca);
  return {
    ca: [caPem, ...keep].join(""),
    cert: forge.pki.certificateToPem(cert),
    key: keys.pem,
  };
}

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
