/**
 * A file the program fetches at deploy time (an upstream release's CRDs), used only if its sha256
 * is the one pinned in the repository: a moved tag, a proxy or a tampered download fails `pulumi
 * up` (and `preview`) instead of changing the cluster.
 */
import { createHash } from "node:crypto";
import { StackError, failureText } from "./errors";

/** The file at `url`, if its sha256 is `sha256`; otherwise a FetchError naming the file and both sums. */
export async function fetchVerified(url: string, sha256: string, fetchImpl: typeof fetch = fetch): Promise<string> {
  const response = await fetchImpl(url).catch((err: unknown) => {
    throw new StackError("FetchError", `${url}: expected the CRD file; the request failed: ${failureText(err)}`);
  });
  if (!response.ok)
    throw new StackError("FetchError", `${url}: expected the CRD file; the server answered ${response.status} ${response.statusText}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  const found = createHash("sha256").update(bytes).digest("hex");
  if (found !== sha256)
    throw new StackError(
      "FetchError",
      `${url}: expected sha256 ${sha256} (the pinned release's file); found ${found}. Nothing was applied from it`,
    );
  return bytes.toString("utf8");
}
