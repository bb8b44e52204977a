import { open } from 'node:fs/promises';

/** Bytes of an XML file read to find its first element; a prolog longer than this is refused. */
export const MAX_XML_PROLOG_BYTES = 1024 * 1024;

/**
 * Where the first element of an XML text starts, past its declaration, processing instructions, comments and DOCTYPE
 * (whose internal subset may hold `>`); undefined when the text ends before one (it is only the start of a file).
 * Written by hand: an XML parser would be the very thing the check keeps entity declarations away from.
 */
export function xmlPrologEnd(text: string): number | undefined {
  let at = 0;
  for (;;) {
    const open = text.indexOf('<', at);
    if (open < 0) return undefined;
    if (text.startsWith('<?', open)) {
      const end = text.indexOf('?>', open + 2);
      if (end < 0) return undefined;
      at = end + 2;
    } else if (text.startsWith('<!--', open)) {
      const end = text.indexOf('-->', open + 4);
      if (end < 0) return undefined;
      at = end + 3;
    } else if (text.startsWith('<!', open)) {
      const bracket = text.indexOf('[', open);
      const close = text.indexOf('>', open);
      if (close < 0) return undefined;
      if (bracket < 0 || bracket > close) {
        at = close + 1;
      } else {
        const subsetEnd = text.indexOf(']', bracket);
        const end = subsetEnd < 0 ? -1 : text.indexOf('>', subsetEnd);
        if (end < 0) return undefined;
        at = end + 1;
      }
    } else {
      return open;
    }
  }
}

/** Whether an XML prolog declares entities, or names an external DTD (both can read local files or reach the network). */
export const prologDeclaresEntities = (prolog: string): boolean => /<!ENTITY|<!DOCTYPE[^>]*\b(SYSTEM|PUBLIC)\b/i.test(prolog);

/**
 * Why an XML file must not be given to a parser (a predicate: "declares XML entities…"), or null: it declares entities (billion laughs, external entities
 * reading `file:///etc/passwd` or fetching from the network), or its prolog runs on past MAX_XML_PROLOG_BYTES, where
 * such a declaration could hide from a look at the file's head.
 */
export async function xmlEntityRefusal(path: string): Promise<string | null> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_XML_PROLOG_BYTES);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const end = xmlPrologEnd(text);
    if (end === undefined && bytesRead === buffer.length) return `has no element in its first ${MAX_XML_PROLOG_BYTES} bytes, which is refused`;
    if (prologDeclaresEntities(end === undefined ? text : text.slice(0, end))) {
      return 'declares XML entities, which are refused (they can read local files or reach the network)';
    }
    return null;
  } finally {
    await file.close();
  }
}
