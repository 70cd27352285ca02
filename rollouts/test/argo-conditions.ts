/**
 * A small evaluator for the conditions our AnalysisTemplates use (Argo Rollouts evaluates them with
 * expr-lang: `len(result) > 0 && !isNaN(result[0]) && result[0] <= 0.01`), so the PromQL tier can
 * turn a real Prometheus answer into the verdict the controller would reach. It supports exactly
 * that grammar: numbers, `result`, `result[i]`, `len(x)`, `isNaN(x)`, `!`, `&&`, `||`, comparisons
 * and parentheses, and throws on anything else. The end-to-end tier runs the real controller.
 */
type Value = number | boolean | number[];

export type MeasurementPhase = "Successful" | "Failed" | "Inconclusive";

/** The measurement's phase as Argo decides it: failure first, then success, else Inconclusive. */
export function measure(successCondition: string, failureCondition: string, result: number[]): MeasurementPhase {
  if (evaluateCondition(failureCondition, result) === true) return "Failed";
  if (evaluateCondition(successCondition, result) === true) return "Successful";
  return "Inconclusive";
}

export function evaluateCondition(condition: string, result: number[]): Value {
  const tokens = condition.match(/\d+(\.\d+)?(e-?\d+)?|&&|\|\||[<>=!]=|[<>!()[\]]|[A-Za-z_]\w*|\S/g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const take = (expected?: string): string => {
    const t = tokens[pos++];
    if (t === undefined || (expected !== undefined && t !== expected))
      throw new Error(`Expected ${expected ?? "a token"} at ${pos} in ${condition}`);
    return t;
  };
  const or = (): Value => {
    let left = and();
    while (peek() === "||") {
      take();
      const right = and();
      left = left === true || right === true;
    }
    return left;
  };
  // Like expr, && does not evaluate its right side when the left is false (len(result) > 0 guards result[0]).
  const and = (): Value => {
    let left = not();
    while (peek() === "&&") {
      take();
      if (left !== true) {
        skipOperand();
        left = false;
      } else left = not() === true;
    }
    return left;
  };
  const skipOperand = (): void => {
    let depth = 0;
    while (pos < tokens.length) {
      const t = peek()!;
      if (depth === 0 && (t === "&&" || t === "||" || t === ")")) return;
      if (t === "(" || t === "[") depth++;
      if (t === ")" || t === "]") depth--;
      take();
    }
  };
  const not = (): Value => {
    if (peek() === "!") {
      take();
      return not() !== true;
    }
    return comparison();
  };
  const comparison = (): Value => {
    const left = primary();
    const op = peek();
    if (op && ["<", "<=", ">", ">=", "==", "!="].includes(op)) {
      take();
      const right = primary();
      if (typeof left !== "number" || typeof right !== "number") throw new Error(`Comparing non-numbers in ${condition}`);
      return { "<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right, "==": left === right, "!=": left !== right }[
        op
      ]!;
    }
    return left;
  };
  const primary = (): Value => {
    const t = take();
    if (t === "(") {
      const v = or();
      take(")");
      return v;
    }
    if (/^\d/.test(t)) return Number(t);
    if (t === "result") {
      if (peek() !== "[") return result;
      take("[");
      const i = Number(take());
      take("]");
      const v = result[i];
      if (v === undefined) throw new Error(`result[${i}] out of range in ${condition}`);
      return v;
    }
    if (t === "len" || t === "isNaN") {
      take("(");
      const arg = or();
      take(")");
      if (t === "len") {
        if (!Array.isArray(arg)) throw new Error(`len of a non-list in ${condition}`);
        return arg.length;
      }
      return typeof arg === "number" && Number.isNaN(arg);
    }
    throw new Error(`Unsupported token "${t}" in ${condition}`);
  };
  const value = or();
  if (pos !== tokens.length) throw new Error(`Unexpected "${peek()}" in ${condition}`);
  return value;
}
