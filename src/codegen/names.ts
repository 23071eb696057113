import * as ts from 'typescript';

/** True when `text` can be written as an identifier (a property name needs no quotes). */
export function isIdentifierName(text: string): boolean {
  let index = 0;
  while (index < text.length) {
    const codePoint = text.codePointAt(index) ?? 0;
    const isValid =
      index === 0
        ? ts.isIdentifierStart(codePoint, ts.ScriptTarget.Latest)
        : ts.isIdentifierPart(codePoint, ts.ScriptTarget.Latest);
    if (!isValid) return false;
    index += codePoint > 0xffff ? 2 : 1;
  }
  return text.length > 0;
}

/** True for words a parameter of a class method in an ES module cannot be named (`function`, `await`). */
export function isReservedInModules(name: string): boolean {
  const keyword = ts.identifierToKeywordKind(ts.factory.createIdentifier(name));
  if (keyword === undefined) return name === 'arguments' || name === 'eval';
  return (
    (keyword >= ts.SyntaxKind.FirstReservedWord && keyword <= ts.SyntaxKind.LastReservedWord) ||
    (keyword >= ts.SyntaxKind.FirstFutureReservedWord && keyword <= ts.SyntaxKind.LastFutureReservedWord) ||
    keyword === ts.SyntaxKind.AwaitKeyword
  );
}

/** A single-quoted string literal. */
export function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}
