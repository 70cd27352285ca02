/**
 * The relaunch guard's serving certificate, as it keeps it in its Secret: when it must be renewed,
 * and which CAs a renewal keeps trusting. The API server calls webhooks over TLS and verifies the
 * certificate against the configuration's caBundle and the name it calls (k8s.io/apiserver
 * pkg/util/webhook/authentication.go and client.go); each renewal issues a new CA and keeps the
 * previous one in the bundle, so a replica still serving the previous certificate stays trusted
 * until it loads the new one. Pure (node:crypto only parses).
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { isIP } from "node:net";

/** The Secret's keys: the names cert-manager and `kubernetes.io/tls` Secrets use. */
export const SERVING_CERT_KEYS = { ca: "ca.crt", cert: "tls.crt", key: "tls.key" } as const;

export interface ServingCert {
  /** Every CA to trust (PEM bundle): the one that signed `cert` first. */
  readonly ca: string;
  /** The serving certificate (PEM). */
  readonly cert: string;
  /** Its private key (PKCS#8 PEM). */
  readonly key: string;
}

const DAY = 86_400_000;
/** A certificate lasts a year and is renewed with 90 days left (cert-manager's default renewal point is a third of the validity). */
export const CERT_VALIDITY_MS = 365 * DAY;
export const RENEW_BEFORE_MS = 90 * DAY;
/** Clocks of the guard's replicas and of the API server may differ by this much. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** The certificates of a PEM bundle, in order. */
export function pemCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** The certificate held in a Secret's data (base64 values), or undefined when a key is missing. */
export function servingCertOf(data: Readonly<Record<string, string>> | undefined): ServingCert | undefined {
  const read = (key: string) => (data?.[key] ? Buffer.from(data[key], "base64").toString("utf8") : undefined);
  const [ca, cert, key] = [read(SERVING_CERT_KEYS.ca), read(SERVING_CERT_KEYS.cert), read(SERVING_CERT_KEYS.key)];
  return ca && cert && key ? { ca, cert, key } : undefined;
}

/** The Secret data (base64 values) that holds `cert`. */
export function servingCertData(cert: ServingCert): Record<string, string> {
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
  return { [SERVING_CERT_KEYS.ca]: b64(cert.ca), [SERVING_CERT_KEYS.cert]: b64(cert.cert), [SERVING_CERT_KEYS.key]: b64(cert.key) };
}

/**
 * Why `current` cannot serve `hosts` until the next check, or undefined when it can: missing,
 * unreadable, its key not its own, not signed by the bundle's first CA, a host it does not
 * name, not yet valid, or within RENEW_BEFORE_MS of its end.
 */
export function renewalReason(current: ServingCert | undefined, hosts: readonly string[], now: number): string | undefined {
  return renewal(current, hosts, now)?.reason;
}

/**
 * What a renewal of `current` keeps trusting: the CA that signed it, only when it was sound and
 * is renewed for its age alone. Anything else the Secret held (written by someone else, or broken)
 * is not carried into the new bundle.
 */
export function carriedOver(current: ServingCert | undefined, hosts: readonly string[], now: number): string[] {
  const first = current && pemCertificates(current.ca)[0];
  if (!first || !renewal(current, hosts, now)?.aging) return [];
  return Date.parse(new X509Certificate(first).validTo) > now ? [first] : [];
}

function renewal(current: ServingCert | undefined, hosts: readonly string[], now: number): { reason: string; aging?: true } | undefined {
  const because = (reason: string) => ({ reason });
  if (!current) return because("no certificate yet");
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(current.cert);
    const first = pemCertificates(current.ca)[0];
    if (!first) return because("no CA in the bundle");
    ca = new X509Certificate(first);
    if (!cert.checkPrivateKey(createPrivateKey(current.key))) return because("the key is not the certificate's");
  } catch (err) {
    return because(`unreadable: ${(err as Error).message}`);
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return because("not signed by the bundle's CA");
  const unnamed = hosts.filter((h) => (isIP(h) ? cert.checkIP(h) : cert.checkHost(h, { wildcards: false })) === undefined);
  if (unnamed.length > 0) return because(`does not name ${unnamed.join(", ")}`);
  const notBefore = Math.max(Date.parse(cert.validFrom), Date.parse(ca.validFrom));
  const notAfter = Math.min(Date.parse(cert.validTo), Date.parse(ca.validTo));
  if (notBefore > now + CLOCK_SKEW_MS) return because(`not valid before ${new Date(notBefore).toISOString()}`);
  if (notAfter - now < RENEW_BEFORE_MS) return { reason: `expires ${new Date(notAfter).toISOString()}`, aging: true };
  return undefined;
}
