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
