/**
 * The Argo Rollouts CRDs are applied only if their sha256 is the pinned one: the pins are the
 * upstream files' (../shared/crds holds the v1.10.2 tag's bytes), and fetchVerified, against a
 * real HTTP server on 127.0.0.1, returns the file when it matches and refuses it, naming both
 * sums, when one byte differs.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { fetchVerified } from "../../infra/kit/fetch-verified";
import { ROLLOUTS_CRDS, ROLLOUTS_CRD_SHA256 } from "../crds";
import { crdsDir } from "../../test/validate/crd-schema";
import { freePort } from "../../test/integration/recorded-process";

const upstream = (crd: string) => fs.readFileSync(path.join(crdsDir(), "argo-rollouts-1.10.2", `${crd}-crd.yaml`));

let server: http.Server;
let base = "";
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const [, kind, crd] = (req.url ?? "").split("/");
    const body = upstream(crd!);
    if (kind === "tampered") body[body.length - 2]! ^= 1;
    res.writeHead(kind === "missing" ? 404 : 200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("the Argo Rollouts CRDs", () => {
  it.each(ROLLOUTS_CRDS)("pins %s at v1.10.2 to the upstream file's sha256", (crd) => {
    expect(ROLLOUTS_CRD_SHA256["v1.10.2"]![crd]).toBe(createHash("sha256").update(upstream(crd)).digest("hex"));
  });

  it("returns a fetched file whose sha256 is the pinned one", async () => {
    const sum = ROLLOUTS_CRD_SHA256["v1.10.2"]!.rollout;
    expect(await fetchVerified(`${base}/good/rollout`, sum)).toBe(upstream("rollout").toString("utf8"));
  });

  it("refuses a file one byte off, naming both sums, and a missing one", async () => {
    const sum = ROLLOUTS_CRD_SHA256["v1.10.2"]!.rollout;
    const tampered = upstream("rollout");
    tampered[tampered.length - 2]! ^= 1;
    const found = createHash("sha256").update(tampered).digest("hex");
    await expect(fetchVerified(`${base}/tampered/rollout`, sum)).rejects.toThrow(
      `${base}/tampered/rollout: expected sha256 ${sum} (the pinned release's file); found ${found}. Nothing was applied from it`,
    );
    await expect(fetchVerified(`${base}/missing/rollout`, sum)).rejects.toThrow(
      `${base}/missing/rollout: expected the CRD file; the server answered 404 Not Found`,
    );
  });

  it("a server that does not answer: names the file and why, as a RunError with no stack of frames", async () => {
    const sum = ROLLOUTS_CRD_SHA256["v1.10.2"]!.rollout;
    // A port just closed: nothing listens there.
    const port = await freePort();
    const err = (await fetchVerified(`http://127.0.0.1:${port}/rollout`, sum).catch((e: Error) => e)) as Error;
    expect(err.message).toBe(
      `http://127.0.0.1:${port}/rollout: expected the CRD file; the request failed: fetch failed (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
    expect([pulumi.RunError.isInstance(err), err.stack]).toEqual([true, `FetchError: ${err.message}`]);
  });
});
