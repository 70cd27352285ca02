import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { connect, createServer } from "node:tls";
import { issueServingCert } from "../src/adapters/issue-cert.js";
import {
  CERT_VALIDITY_MS,
  RENEW_BEFORE_MS,
  carriedOver,
  pemCertificates,
  renewalReason,
  servingCertData,
  servingCertOf,
} from "../src/core/serving-cert.js";

const DAY = 86_400_000;
const T0 = Date.parse("2026-12-07T00:00:00Z");
const HOSTS = ["streamforge-relaunch-guard.stf.svc", "127.0.0.1"];

describe("the relaunch guard's serving certificate", () => {
  const issued = issueServingCert(HOSTS, T0);

  it("is a CA-signed server certificate naming every host in its SAN, for a year", () => {
    const cert = new X509Certificate(issued.cert);
    const ca = new X509Certificate(pemCertificates(issued.ca)[0]!);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe("DNS:streamforge-relaunch-guard.stf.svc, IP Address:127.0.0.1");
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(Date.parse(cert.validTo) - T0).toBeGreaterThan(CERT_VALIDITY_MS - 1000);
    expect(renewalReason(issued, HOSTS, T0)).toBeUndefined();
  });

  it("verifies in a real TLS handshake against its CA bundle and the host the API server calls", async () => {
    const server = createServer({ cert: issued.cert, key: issued.key }, (socket) => socket.end("ok"));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const handshake = (servername: string | undefined) =>
      new Promise<string>((resolve) => {
        const socket = connect({ host: "127.0.0.1", port, ca: issued.ca, ...(servername ? { servername } : {}) }, () => {
          resolve(socket.authorized ? "authorized" : String(socket.authorizationError));
          socket.destroy();
        });
        socket.on("error", (err) => resolve(err.message));
      });
    try {
      expect(await handshake(undefined)).toBe("authorized");
      expect(await handshake("streamforge-relaunch-guard.stf.svc")).toBe("authorized");
      expect(await handshake("streamforge-relaunch-guard.other.svc")).toContain("does not match certificate's altnames");
    } finally {
      server.close();
    }
  });

  it("is renewed when missing, unreadable, not its key's, not the CA's, missing a host, or near its end", () => {
    const other = issueServingCert(HOSTS, T0);
    expect(renewalReason(undefined, HOSTS, T0)).toBe("no certificate yet");
    expect(renewalReason({ ...issued, cert: "garbage" }, HOSTS, T0)).toMatch(/^unreadable: /);
    expect(renewalReason({ ...issued, key: other.key }, HOSTS, T0)).toBe("the key is not the certificate's");
    expect(renewalReason({ ...issued, ca: other.ca }, HOSTS, T0)).toBe("not signed by the bundle's CA");
    expect(renewalReason(issued, [...HOSTS, "guard.example"], T0)).toBe("does not name guard.example");
    expect(renewalReason(issued, HOSTS, T0 + CERT_VALIDITY_MS - RENEW_BEFORE_MS - DAY)).toBeUndefined();
    expect(renewalReason(issued, HOSTS, T0 + CERT_VALIDITY_MS - RENEW_BEFORE_MS + DAY)).toMatch(/^expires 2027-12-07T/);
    expect(renewalReason(issueServingCert(HOSTS, T0 + DAY), HOSTS, T0)).toMatch(/^not valid before /);
  });

  it("keeps trusting the previous CA after a renewal for age, until it ends", () => {
    const at = T0 + 280 * DAY;
    const renewed = issueServingCert(HOSTS, at, carriedOver(issued, HOSTS, at));
    expect(pemCertificates(renewed.ca)).toEqual([expect.any(String), pemCertificates(issued.ca)[0]]);
    expect(renewalReason(renewed, HOSTS, at)).toBeUndefined();
    // Past the first CA's end only the renewal's CA is carried over, never a CA further back.
    const later = T0 + 600 * DAY;
    expect(carriedOver(renewed, HOSTS, later)).toEqual([pemCertificates(renewed.ca)[0]]);
    expect(carriedOver(issued, HOSTS, later)).toEqual([]);
  });

  it("carries nothing over from a Secret that was not sound: someone else's CA is not kept trusted", () => {
    const at = T0 + 280 * DAY;
    const foreign = issueServingCert(HOSTS, T0);
    // Another CA first, with a broken certificate or one it did not sign: the renewal starts a bundle of its own.
    expect(carriedOver({ ...issued, ca: foreign.ca }, HOSTS, at)).toEqual([]);
    expect(carriedOver({ ...foreign, cert: "garbage" }, HOSTS, at)).toEqual([]);
    expect(carriedOver({ ...issued, key: foreign.key }, HOSTS, at)).toEqual([]);
    // Sound but for another host: renewed at once, nothing kept.
    expect(carriedOver(issued, ["guard.example"], T0)).toEqual([]);
    // Sound and not yet aging: nothing to renew.
    expect(carriedOver(issued, HOSTS, T0)).toEqual([]);
  });

  it("is kept in the Secret as ca.crt, tls.crt and tls.key, and read back only whole", () => {
    const data = servingCertData(issued);
    expect(Object.keys(data)).toEqual(["ca.crt", "tls.crt", "tls.key"]);
    expect(servingCertOf(data)).toEqual(issued);
    expect(servingCertOf({ ...data, "tls.key": "" })).toBeUndefined();
    expect(servingCertOf(undefined)).toBeUndefined();
  });
});
