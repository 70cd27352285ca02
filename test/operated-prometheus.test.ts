import { LOCAL_ADDRESS_ANNOTATION, annotationMetaLabel, localPrometheusResource } from "./integration/operated-prometheus";

describe("the local Prometheus resource the tests' Prometheus is generated from", () => {
  const apiServer = { host: "https://127.0.0.1:16443", caFile: "/s/ca.crt", certFile: "/s/client.crt", keyFile: "/s/client.key" };

  it("names an annotation as Prometheus's pod discovery does (every character outside [a-zA-Z0-9_] becomes _)", () => {
    expect(annotationMetaLabel(LOCAL_ADDRESS_ANNOTATION)).toBe("__meta_kubernetes_pod_annotation_streamforge_local_metrics_address");
  });

  it("selects every PodMonitor everywhere, reaches the API server with the given certificate, and rewrites only the address", () => {
    const r = localPrometheusResource({ version: "v2.42.0", apiServer, scrapeInterval: "2s" });
    expect(r.spec).toMatchObject({
      version: "v2.42.0",
      podMonitorSelector: {},
      podMonitorNamespaceSelector: {},
      apiserverConfig: { host: apiServer.host, tlsConfig: { caFile: "/s/ca.crt", certFile: "/s/client.crt", keyFile: "/s/client.key" } },
    });
    const [cls] = r.spec.scrapeClasses;
    expect(cls!.default).toBe(true);
    // The local-only rules touch nothing but which pods are scraped and where: no label the analysis reads.
    expect(cls!.relabelings.map((x) => x.targetLabel ?? x.action)).toEqual(["keep", "__address__"]);
    expect(cls!.relabelings[0]!.sourceLabels).toEqual(["__meta_kubernetes_pod_annotationpresent_streamforge_local_metrics_address"]);
    expect(
      localPrometheusResource({ version: "v2.42.0", apiServer, scrapeInterval: "2s", podMonitorSelector: { release: "p" } }).spec
        .podMonitorSelector,
    ).toEqual({
      matchLabels: { release: "p" },
    });
  });
});
