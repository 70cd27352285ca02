/**
 * The errors the program stops with in its own words. A RunError, so that the Pulumi runtime prints
 * its message alone (cmd/run/run.js uncaughtHandler), not a stack that says nothing to a platform
 * team; its stack is its message, since the runtime also formats every uncaught error for its
 * trace (defaultErrorMessage, util.inspect), RunError or not, and building a stack's frames through
 * source-map-support took 9 s of garbage collection per refused preview here.
 */
import * as pulumi from "@pulumi/pulumi";

export class StackError extends pulumi.RunError {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
    this.stack = `${this.name}: ${this.message}`;
  }
}

/**
 * What the cluster or Kafka holds could not be read, so no change can be judged. The message names
 * what to fix and carries the failure's first line; no cause, whose stack util.inspect would build.
 */
export class LiveReadError extends StackError {
  constructor(message: string) {
    super("LiveReadError", message);
  }
}

/** A failure's first line, with its cause's where it has one (undici's "fetch failed" says nothing; ECONNREFUSED does). */
export function failureText(err: unknown): string {
  const first = (text: unknown) => (typeof text === "string" ? (text.split("\n")[0] ?? "") : "");
  const message = first((err as { message?: unknown } | undefined)?.message) || String(err);
  const cause = first((err as { cause?: { message?: unknown } } | undefined)?.cause?.message);
  return cause && cause !== message ? `${message} (${cause})` : message;
}
