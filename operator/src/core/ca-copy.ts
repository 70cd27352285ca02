/**
 * The Kafka cluster CA's copy in the apps namespace, kept equal to Strimzi's Secret. Strimzi writes
 * the cluster CA certificate only in the Kafka namespace, as `ca.crt`; when it replaces the CA's
 * key it keeps the previous certificate there as `ca-<notAfter>.crt` until the brokers are rolled
 * (strimzi-kafka-operator 1.2.0 operator-common/src/main/java/io/strimzi/operator/common/ca/
 * InternalCa.java L441-453; removed later, Ca.java L162, L622-630). The copy carries every `*.crt`
 * key, and nothing else (not the PKCS12 store or its password). Pure.
 */

/** The Secret data (base64 values) the copy should hold: the source's certificates only. */
export function caCopyData(source: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const certs = Object.fromEntries(Object.entries(source ?? {}).filter(([k]) => k.endsWith(".crt")));
  if (!certs["ca.crt"]) throw new Error("the source Secret has no ca.crt: is Strimzi's cluster CA in place?");
  return certs;
}

export interface CaCopyChange {
  readonly data: Record<string, string>;
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

/** What the copy must become, or undefined when it already holds exactly the source's certificates. */
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
