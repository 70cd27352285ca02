/**
 * The test kit's Prometheus client, for every test and the chaos drill: the HTTP API's `data` of a
 * successful answer, and instant queries. Imports nothing (see wait.ts for why the kit is here).
 */

/** A Prometheus HTTP API route (`/api/v1/...`) on `url`: the answer's `data`; throws with Prometheus's error when it refuses. */
export async function prometheusApi<T>(url: string, route: string): Promise<T> {
  const res = await fetch(`${url}${route}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== "success") throw new Error(`Prometheus on ${url} refused ${route}: ${body.error ?? res.status}`);
  return body.data;
}

/** An instant query's values on the Prometheus at `url`: a vector's samples in its order, or the scalar; throws when Prometheus refuses the query. */
export async function promQuery(url: string, query: string): Promise<number[]> {
  const data = await prometheusApi<{ resultType: string; result: unknown }>(url, `/api/v1/query?query=${encodeURIComponent(query)}`);
  if (data.resultType === "scalar") return [Number((data.result as [number, string])[1])];
  return (data.result as { value: [number, string] }[]).map((r) => Number(r.value[1]));
}

/** How many series match `selector` on the Prometheus at `url` in the last `seconds`. */
export async function promSeriesCount(url: string, selector: string, seconds = 60): Promise<number> {
  const start = Math.floor(Date.now() / 1000) - seconds;
  return (await prometheusApi<unknown[]>(url, `/api/v1/series?match[]=${encodeURIComponent(selector)}&start=${start}`)).length;
}
