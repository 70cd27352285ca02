import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The drill's witness of "no acknowledged message lost or duplicated": Kafka's own Java client with
 * idempotence on and retries left at their default (unbounded within delivery.timeout.ms), so a
 * batch whose acknowledgement a broker kill swallowed is sent again and the broker drops the copy.
 * Kafka's VerifiableProducer sets retries=0, which turns idempotence off and leaves nothing for the
 * duplicate check to catch. Prints one JSON line per acknowledgement or error, in
 * VerifiableProducer's names, and stops producing when its stdin closes, then flushes and exits.
 *
 * Usage: java -cp <classes>:<kafka libs>/* IdempotentProducer BOOTSTRAP TOPIC MESSAGES_PER_SECOND
 */
public final class IdempotentProducer {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String topic = args[1];
    long pauseMs = Math.max(1, 1000 / Integer.parseInt(args[2]));
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());

    AtomicBoolean running = new AtomicBoolean(true);
    Thread stdin =
        new Thread(
            () -> {
              try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in))) {
                while (in.readLine() != null) {
                  // Any line is ignored; the end of input stops the producer.
                }
              } catch (Exception ignored) {
                // Closed either way.
              }
              running.set(false);
            });
    stdin.setDaemon(true);
    stdin.start();

    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      System.out.println("{\"name\":\"startup_complete\"}");
      for (long n = 0; running.get(); n++) {
        final String value = Long.toString(n);
        producer.send(
            new ProducerRecord<>(topic, value),
            (metadata, error) -> {
              String line =
                  error == null
                      ? "{\"name\":\"producer_send_success\",\"value\":\"" + value + "\",\"partition\":" + metadata.partition() + ",\"offset\":" + metadata.offset() + "}"
                      : "{\"name\":\"producer_send_error\",\"value\":\"" + value + "\",\"exception\":\"" + error.getClass().getSimpleName() + "\"}";
              synchronized (System.out) {
                System.out.println(line);
              }
            });
        Thread.sleep(pauseMs);
      }
      producer.flush();
    }
    System.out.println("{\"name\":\"shutdown_complete\"}");
  }
}
