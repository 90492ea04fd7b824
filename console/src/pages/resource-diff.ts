// What changed between two versions of a resource: a line diff of their YAML (longest common subsequence), and
// where in the text a server's error expression (`name[0].family`, `auth.client_credentials.token_format`) points.
import { isMap, isSeq, parseDocument, type Node } from 'yaml';

export type DiffLine = { kind: 'same' | 'added' | 'removed'; text: string };

/** Lines of `before` and `after`, each kept, added or removed. Quadratic, which resources of a few hundred lines afford. */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.replace(/\n$/, '').split('\n');
  const b = after.replace(/\n$/, '').split('\n');
  // lengths[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lengths = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lengths[i]![j] = a[i] === b[j] ? lengths[i + 1]![j + 1]! + 1 : Math.max(lengths[i + 1]![j]!, lengths[i]![j + 1]!);
    }
  }
  const lines: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      lines.push({ kind: 'same', text: a[i]! });
      i += 1;
      j += 1;
    } else if (lengths[i + 1]![j]! >= lengths[i]![j + 1]!) {
      lines.push({ kind: 'removed', text: a[i]! });
      i += 1;
    } else {
      lines.push({ kind: 'added', text: b[j]! });
      j += 1;
    }
  }
  for (; i < a.length; i += 1) lines.push({ kind: 'removed', text: a[i]! });
  for (; j < b.length; j += 1) lines.push({ kind: 'added', text: b[j]! });
  return lines;
}

/**
 * The 1-based line of `text` (YAML or JSON) that an OperationOutcome expression names, or undefined.
 * Accepts FHIRPath-like `Patient.name[0].family` (the type prefix is dropped) and dotted `grant_types.0`.
 */
export function lineOfExpression(text: string, expression: string, resourceType: string): number | undefined {
  const path = expression.replace(new RegExp(`^${resourceType}\\.`), '').split(/\.|\[(\d+)\]/).filter((part) => part !== undefined && part !== '');
  if (path.length === 0) return undefined;
  const document = parseDocument(text);
  if (document.errors.length) return undefined;
  let node: unknown = document.contents;
  let found: Node | null = null;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => String((item.key as { value?: unknown } | null)?.value ?? item.key) === segment);
      if (!pair) break;
      found = (pair.key as Node | null) ?? found;
      node = pair.value;
    } else if (isSeq(node) && /^\d+$/.test(segment)) {
      const item = node.items[Number(segment)] as Node | undefined;
      if (!item) break;
      found = item;
      node = item;
    } else {
      break;
    }
  }
  const offset = found?.range?.[0];
  return offset === undefined ? undefined : text.slice(0, offset).split('\n').length;
}
