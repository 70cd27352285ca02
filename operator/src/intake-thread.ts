/** The intake thread (see intake.ts): folds the batches it is sent, reports on request. */
import { parentPort, workerData } from "node:worker_threads";
import { type FoldOptions, SignalFold } from "./core/signal-fold.js";
import type { FromWorker, ToWorker } from "./intake.js";

const fold = new SignalFold(workerData as FoldOptions);
const port = parentPort!;

port.on("message", (message: ToWorker) => {
  let reply: FromWorker;
  if (message.type === "apply") {
    fold.applyBatch(message.batch);
    reply = { id: message.id };
  } else {
    fold.forget(message.forget, message.now);
    reply = { id: message.id, report: fold.report() };
  }
  port.postMessage(reply);
});
