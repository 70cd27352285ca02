/**
 * A Kubernetes client for the stack's cluster, outside the Pulumi provider: the same kubeconfig
 * (or the default one) at the same context. @kubernetes/client-node is ES modules only, so it is
 * loaded on demand (Node 22 can; a dynamic provider's process and the CLIs run this).
 */
export async function kubeClient(kubeconfig: string | undefined, context: string | undefined) {
  const k8s = await import("@kubernetes/client-node");
  const config = new k8s.KubeConfig();
  if (kubeconfig) config.loadFromFile(kubeconfig);
  else config.loadFromDefault();
  if (context) config.setCurrentContext(context);
  return { k8s, config };
}

/** client-go's default (k8s.io/client-go v0.37.2 `rest/request.go`, `maxRetries: 10`). */
export const MAX_RETRIES = 10;

/**
 * The seconds the API server asked to wait before the request is tried again, or undefined when
 * it is not to be retried. As client-go decides it (`rest/with_retry.go` `checkWait`,
 * `rest/request.go` `retryAfterSeconds`): a 429 or any 5xx that carries a numeric `Retry-After`.
 * The API server answers 429 with `Retry-After` when priority and fairness sheds a request and,
 * since Kubernetes 1.31, to a list while a resource's watch cache (re)initializes
 * (k8s.io/apiserver v0.37.2 `pkg/storage/cacher/cacher.go`, KEP 4568); client-node does not retry.
 */
export function retryAfterSeconds(err: unknown): number | undefined {
  const { code, headers } = (err ?? {}) as { code?: unknown; headers?: Record<string, unknown> };
  if (typeof code !== "number" || !(code === 429 || code >= 500)) return undefined;
  const header = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === "retry-after")?.[1];
  return typeof header === "string" && /^\d+$/.test(header.trim()) ? Number(header) : undefined;
}

/** Runs `request`, trying it again as client-go would (`retryAfterSeconds`) up to `MAX_RETRIES` times. */
export async function withApiRetries<T>(
  request: () => Promise<T>,
  wait: (seconds: number) => Promise<void> = (s) => new Promise((resolve) => setTimeout(resolve, s * 1000)),
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (err) {
      const seconds = retryAfterSeconds(err);
      if (seconds === undefined || attempt >= MAX_RETRIES) throw err;
      await wait(seconds);
    }
  }
}
