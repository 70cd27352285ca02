import { CA_BUNDLE_KEY, caBundle, caCopyChange, caCopyData } from "../src/core/ca-copy.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const text = (b: string) => Buffer.from(b, "base64").toString();
/** A PEM block of `body`; lengths differ so that every remainder modulo 3 is met. */
const pem = (body: string, newline = "\n") => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----${newline}`;
const OLD = pem("b2xkIENB");
const NEW = pem("bmV3IENBIQ==");
const OLDER = pem("b2xkZXIK", "");
const A = b64(OLD);
const B = b64(NEW);
const DATED = "ca-2026-12-31T00-00-00Z.crt";
/** Strimzi's cluster CA cert Secret: the certificate, and its PKCS12 store and the store's password. */
const strimzi = (data: Record<string, string>) => ({ ...data, "ca.p12": "cDEy", "ca.password": "cHc=" });
/** The PEM blocks of a file, as a TLS library reads them. */
const blocks = (file: string) => file.match(/-----BEGIN CERTIFICATE-----\n[^-]*-----END CERTIFICATE-----/g) ?? [];

describe("the Kafka CA bundle", () => {
  it("holds every certificate of the source, each on lines of its own, in the order of their key names", () => {
    expect([OLD, NEW, OLDER].map((p) => p.length % 3).sort()).toEqual([0, 1, 2]);
    const bundle = text(caBundle({ "ca.crt": b64(NEW), [DATED]: b64(OLD), "ca-2025-01-01T00-00-00Z.crt": b64(OLDER) }));
    expect(blocks(bundle)).toEqual([OLDER, OLD, NEW].map((p) => p.trimEnd()));
    // Each certificate starts a line: a reader looking for "-----BEGIN" at a line's start finds all three.
    expect(bundle.split("\n").filter((l) => l.startsWith("-----BEGIN CERTIFICATE-----"))).toHaveLength(3);
    expect(bundle.replace(/\n/g, "")).toBe([OLDER, OLD, NEW].join("").replace(/\n/g, ""));
  });

  it("does not depend on the order the source lists its keys in", () => {
    expect(caBundle({ [DATED]: A, "ca.crt": B })).toBe(caBundle({ "ca.crt": B, [DATED]: A }));
  });

  it("is the concatenation of each certificate's bundle: base64 with no padding inside", () => {
    for (const [x, y] of [
      [OLD, NEW],
      [NEW, OLDER],
      [OLDER, OLD],
    ] as const) {
      const [first, second] = [caBundle({ "a.crt": b64(x) }), caBundle({ "b.crt": b64(y) })];
      expect(first).not.toContain("=");
      expect(caBundle({ "a.crt": b64(x), "b.crt": b64(y) })).toBe(first + second);
    }
  });
});

describe("the Kafka CA copy", () => {
  it("carries every certificate of Strimzi's Secret and their bundle, nothing else", () => {
    expect(caCopyData(strimzi({ "ca.crt": B, [DATED]: A }))).toEqual({
      "ca.crt": B,
      [DATED]: A,
      [CA_BUNDLE_KEY]: caBundle({ "ca.crt": B, [DATED]: A }),
    });
  });

  it("is current when it holds exactly those certificates and their bundle", () => {
    expect(caCopyChange(strimzi({ "ca.crt": A }), { "ca.crt": A, [CA_BUNDLE_KEY]: caBundle({ "ca.crt": A }) })).toBeUndefined();
  });

  it("follows a replaced key: the new ca.crt, the old one kept under its dated name, both in the bundle", () => {
    const change = caCopyChange(strimzi({ "ca.crt": B, [DATED]: A }), { "ca.crt": A, [CA_BUNDLE_KEY]: caBundle({ "ca.crt": A }) });
    expect(change).toMatchObject({ added: [DATED], changed: [CA_BUNDLE_KEY, "ca.crt"], removed: [] });
    expect(blocks(text(change?.data[CA_BUNDLE_KEY] ?? ""))).toEqual([OLD, NEW].map((p) => p.trimEnd()));
  });

  it("drops a certificate Strimzi removed, from the keys and the bundle, and anything that is not one", () => {
    const before = { "ca.crt": B, [DATED]: A, [CA_BUNDLE_KEY]: caBundle({ "ca.crt": B, [DATED]: A }), "tls.key": "a2V5" };
    expect(caCopyChange(strimzi({ "ca.crt": B }), before)).toEqual({
      data: { "ca.crt": B, [CA_BUNDLE_KEY]: caBundle({ "ca.crt": B }) },
      added: [],
      changed: [CA_BUNDLE_KEY],
      removed: [DATED, "tls.key"],
    });
  });

  it("adds the bundle to a copy made before there was one", () => {
    expect(caCopyChange(strimzi({ "ca.crt": A }), { "ca.crt": A })).toMatchObject({ added: [CA_BUNDLE_KEY], changed: [], removed: [] });
  });

  it("refuses a source without ca.crt rather than emptying the copy", () => {
    expect(() => caCopyChange({ "ca.p12": "cDEy" }, { "ca.crt": A })).toThrow("the source Secret has no ca.crt");
    expect(() => caCopyChange(undefined, { "ca.crt": A })).toThrow("the source Secret has no ca.crt");
  });
});
