/**
 * Strimzi's CRDs, applied by the program right before its cluster operator, so a chart upgrade
 * brings its CRDs along. `helm upgrade` never touches a chart's `crds/` folder, which is why
 * Strimzi's Helm upgrade asks for them by hand (documentation/assemblies/upgrading/
 * assembly-upgrade-cluster-operator.adoc L35-41). They go first, in the order an upgrade from the
 * install files applies them (`kubectl replace -f install/cluster-operator`: the 04x-Crd files
 * before 060-Deployment; documentation/modules/upgrading/proc-upgrade-cluster-operator.adoc
 * L78-80): the new operator never runs against the old schemas. All at tag 1.2.0.
 *
 * Each file is fetched at deploy time from the release's tag (packaging/install/cluster-operator/:
 * the schemas of the chart's `crds/`, without its `component` label) and used only if its sha256
 * is the one pinned here (infra/kit/fetch-verified.ts). ../shared/crds/strimzi holds the 1.2.0
 * files; infra/kafka/test/strimzi-crds.test.ts holds the pins to them.
 *
 * They are applied as CRD patches (infra/kit/upstream-crd.ts): never deleted by the program, which
 * would delete every Kafka, node pool, topic and user of the cluster with it.
 */

/** The release's CRD files, each with the CRD it holds. */
export const STRIMZI_CRDS = [
  { file: "040-Crd-kafka.yaml", name: "kafkas.kafka.strimzi.io" },
  { file: "041-Crd-kafkaconnect.yaml", name: "kafkaconnects.kafka.strimzi.io" },
  { file: "042-Crd-strimzipodset.yaml", name: "strimzipodsets.core.strimzi.io" },
  { file: "043-Crd-kafkatopic.yaml", name: "kafkatopics.kafka.strimzi.io" },
  { file: "044-Crd-kafkauser.yaml", name: "kafkausers.kafka.strimzi.io" },
  { file: "045-Crd-kafkanodepool.yaml", name: "kafkanodepools.kafka.strimzi.io" },
  { file: "046-Crd-kafkabridge.yaml", name: "kafkabridges.kafka.strimzi.io" },
  { file: "047-Crd-kafkaconnector.yaml", name: "kafkaconnectors.kafka.strimzi.io" },
  { file: "048-Crd-kafkamirrormaker2.yaml", name: "kafkamirrormaker2s.kafka.strimzi.io" },
  { file: "049-Crd-kafkarebalance.yaml", name: "kafkarebalances.kafka.strimzi.io" },
] as const;
export type StrimziCrdFile = (typeof STRIMZI_CRDS)[number]["file"];

/** By Strimzi release: each CRD file's sha256 at that tag. A release is deployable only with its pins. */
export const STRIMZI_CRD_SHA256: Readonly<Record<string, Readonly<Record<StrimziCrdFile, string>>>> = {
  "1.2.0": {
    "040-Crd-kafka.yaml": "b5b27fc8d52068a77cde7c40d47c068023c7b4e92fc266c45200db2d2506392a",
    "041-Crd-kafkaconnect.yaml": "00339af1b873aefbfc4406ef251d03d0928a8d7f6a85c45bd322080e21d6f3be",
    "042-Crd-strimzipodset.yaml": "e669bc6b5bbebd4dd911e5ad0b9817cbbee9b920f1a8a1ab0fc8dda116bb2fc8",
    "043-Crd-kafkatopic.yaml": "36390f0731c699448076d4ee739e8b7f331d083e91a7fb71500aaa830ab1127e",
    "044-Crd-kafkauser.yaml": "c7e91b9b027a516b43dc7d369e781ee23a6ea177ae15fe0c33af6f722e26e05f",
    "045-Crd-kafkanodepool.yaml": "411c1b32ef8c1a6408ac9d4fe791115a6ce2b41107204588f976a3ed19be2430",
    "046-Crd-kafkabridge.yaml": "0b20cb76e3217b9183a40464b51e2344cbd672bdf5bab33f39c9f67e9326a411",
    "047-Crd-kafkaconnector.yaml": "8050325edfec7ac90718f9e40f3f808b5489d7ae6c11b1634bc82426955b8fff",
    "048-Crd-kafkamirrormaker2.yaml": "ca92dcb51e1982838150682d6de820392d3f046adf4ec9a9f049b522c90cb3e0",
    "049-Crd-kafkarebalance.yaml": "e84ffcd975c62025436ead73298c53b3e3409746986295d57dc156b6710201b2",
  },
};

export const strimziCrdUrl = (release: string, file: string): string =>
  `https://raw.githubusercontent.com/strimzi/strimzi-kafka-operator/${release}/packaging/install/cluster-operator/${file}`;
