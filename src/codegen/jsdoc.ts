import * as ts from 'typescript';

/**
 * The JSDoc block written right before `node`, as source text, or `undefined` when there is none.
 * Copied verbatim (rather than rebuilt from `getDocumentationComment`) so tags such as `@example`
 * and `@deprecated` survive exactly.
 */
export function readJsDoc(node: ts.Node | undefined): string | undefined {
  if (node === undefined) return undefined;
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const last = docs.at(-1);
  if (last === undefined) return undefined;
  return last.getSourceFile().text.slice(last.getStart(), last.end);
}

/** Re-indent a JSDoc block so it sits at `indent`, with ` * ` gutters and no trailing spaces. */
export function indentJsDoc(doc: string, indent: string): string {
  const lines = doc.split(/\r?\n/);
  return lines
    .map((line, index) => {
      const trimmed = line.trim();
      if (index === 0) return indent + trimmed;
      if (trimmed.startsWith('*')) return `${indent} ${trimmed}`;
      return `${indent} * ${trimmed}`.trimEnd();
    })
    .join('\n');
}
