/**
 * Where the platform's pods find the Kafka cluster CA: the copy of Strimzi's CA Secret in the apps
 * namespace (operator/src/core/ca-copy.ts), mounted at one path, read as its bundle. queue-manager
 * passes `CA_PATH` on to the Jobs it launches (../shared/STREAMFORGE.md), so the path is a contract.
 */
import { CA_BUNDLE_KEY } from "../../operator/src/core/ca-copy";

export { CA_BUNDLE_KEY };
/** The directory the CA copy is mounted at. */
export const CA_MOUNT_PATH = "/etc/kafka-ca";
/** The file clients read: every CA certificate of the copy, so a CA key replacement keeps them trusting the brokers. */
export const CA_PATH = `${CA_MOUNT_PATH}/${CA_BUNDLE_KEY}`;

/** Where a stack keeps the CA copy: its namespace and the Secret's name (infra/kafka/clients.ts `caCopy`). */
export interface KafkaCaCopy {
  readonly namespace: string;
  readonly secretName: string;
}
