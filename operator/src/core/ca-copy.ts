/**
 * The Kafka cluster CA's copy in the apps namespace, kept equal to Strimzi's Secret. Strimzi writes
 * the cluster CA certificate only in the Kafka namespace, as `ca.crt`; when it replaces the CA's
 * key it keeps the previous certificate there as `ca-<notAfter>.crt` until the brokers are rolled
 * (strimzi-kafka-operator 1.2.0 operator-common/src/main/java/io/strimzi/operator/common/ca/
 * InternalCa.java L442-455; removed later, Ca.java L162, L625-630). The copy carries every `*.crt`
 * key, and nothing else (not the PKCS12 store or its password), plus `ca-bundle.pem`: every one of
 * those certificates in one file, which is what the clients mount, so that during a key
 * replacement they trust both the new CA and the old one the brokers may still present. Pure.
 *
 * This file is shared with the program (infra/kafka/cluster.ts writes the first copy with it, and
 * the syncer's admission policy in infra/kafka/ca-sync-spec.ts recomputes the bundle in CEL): it
 * imports nothing.
 */

/** The key of the copy that holds every CA certificate of the source, the one clients read. */
export const CA_BUNDLE_KEY = "ca-bundle.pem";

/**
 * The bundle (base64, as Secret data): the source's certificates in the order of their key names,
 * each followed by one to three newlines so that its length is a multiple of 3. Base64 of such
 * parts is the concatenation of their base64, so the API server's CEL, which cannot decode base64
 * (Kubernetes 1.34 apiserver pkg/cel/environment/base.go L62-192 has no encoder library), can
 * recompute the bundle from the source's values by string operations alone. PEM readers skip
 * blank lines between certificates (OpenSSL's, under Node's `tls` and Python's `ssl`, librdkafka's).
 * Key names are Secret keys (`[-._a-zA-Z0-9]`): sorting by UTF-16 code unit is CEL's byte order.
 */
export function caBundle(certs: Readonly<Record<string, string>>): string {
  const parts = Object.keys(certs)
    .sort()
    .map((key) => {
      const pem = Buffer.from(certs[key] ?? "", "base64");
      return Buffer.concat([pem, Buffer.from("\n".repeat(3 - (pem.length % 3)))]);
    });
  return Buffer.concat(parts).toString("base64");
}

/** The Secret data (base64 values) the copy should hold: the source's certificates and their bundle. */
export function caCopyData(source: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const certs = Object.fromEntries(Object.entries(source ?? {}).filter(([k]) => k.endsWith(".crt")));
  if (!certs["ca.crt"]) throw new Error("the source Secret has no ca.crt: is Strimzi's cluster CA in place?");
  return { ...certs, [CA_BUNDLE_KEY]: caBundle(certs) };
}

export interface CaCopyChange {
  readonly data: Record<string, string>;
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

/** What the copy must become, or undefined when it already holds exactly the source's certificates and their bundle. */
export function caCopyChange(
  source: Readonly<Record<string, string>> | undefined,
  copy: Readonly<Record<string, string>> | undefined,
): CaCopyChange | undefined {
  const data = caCopyData(source);
  const current = copy ?? {};
  const added = Object.keys(data).filter((k) => !(k in current));
  const changed = Object.keys(data).filter((k) => k in current && current[k] !== data[k]);
  const removed = Object.keys(current).filter((k) => !(k in data));
  if (added.length + changed.length + removed.length === 0) return undefined;
  return { data, added: added.sort(), changed: changed.sort(), removed: removed.sort() };
}
