/**
 * Issues the relaunch guard's serving certificate: node-forge signs, Node generates the keys
 * (RSA-2048, which every TLS client of the API server accepts). The CA's key is returned to no one:
 * each renewal issues a new CA (core/serving-cert.ts says which previous CA stays trusted).
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";
import { CERT_VALIDITY_MS, CLOCK_SKEW_MS, type ServingCert } from "../core/serving-cert.js";

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
