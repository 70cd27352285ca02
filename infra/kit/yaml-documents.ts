/**
 * Every document of a YAML stream as plain values, empty documents left out; the first syntax
 * error fails it, named after `what` (the file). Used by the CRD files the program fetches and the
 * renders the preview compares.
 */
import { parseAllDocuments } from "yaml";

export function yamlDocuments(text: string, what: string): unknown[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${what}: ${doc.errors[0]?.message ?? "invalid YAML"}`);
    const value: unknown = doc.toJS();
    return value === null || value === undefined ? [] : [value];
  });
}
