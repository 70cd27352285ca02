import { caCopyChange, caCopyData } from "../src/core/ca-copy.js";

const A = Buffer.from("-----BEGIN CERTIFICATE-----A").toString("base64");
const B = Buffer.from("-----BEGIN CERTIFICATE-----B").toString("base64");
/** Strimzi's cluster CA cert Secret: the certificate, and its PKCS12 store and the store's password. */
const strimzi = (data: Record<string, string>) => ({ ...data, "ca.p12": "cDEy", "ca.password": "cHc=" });

describe("the Kafka CA copy", () => {
  it("carries every certificate of Strimzi's Secret and nothing else", () => {
    expect(caCopyData(strimzi({ "ca.crt": B, "ca-2026-12-31T00-00-00Z.crt": A }))).toEqual({
      "ca.crt": B,
      "ca-2026-12-31T00-00-00Z.crt": A,
    });
  });

  it("is current when it holds exactly those certificates", () => {
    expect(caCopyChange(strimzi({ "ca.crt": A }), { "ca.crt": A })).toBeUndefined();
  });

  it("follows a replaced key: the new ca.crt, the old one kept under its dated name", () => {
    expect(caCopyChange(strimzi({ "ca.crt": B, "ca-2026-12-31T00-00-00Z.crt": A }), { "ca.crt": A })).toEqual({
      data: { "ca.crt": B, "ca-2026-12-31T00-00-00Z.crt": A },
      added: ["ca-2026-12-31T00-00-00Z.crt"],
      changed: ["ca.crt"],
      removed: [],
    });
  });

  it("drops a certificate Strimzi removed, and anything that is not one", () => {
    expect(caCopyChange(strimzi({ "ca.crt": B }), { "ca.crt": B, "ca-2026-12-31T00-00-00Z.crt": A, "tls.key": "a2V5" })).toEqual({
      data: { "ca.crt": B },
      added: [],
      changed: [],
      removed: ["ca-2026-12-31T00-00-00Z.crt", "tls.key"],
    });
  });

  it("refuses a source without ca.crt rather than emptying the copy", () => {
    expect(() => caCopyChange({ "ca.p12": "cDEy" }, { "ca.crt": A })).toThrow("the source Secret has no ca.crt");
    expect(() => caCopyChange(undefined, { "ca.crt": A })).toThrow("the source Secret has no ca.crt");
  });
});
