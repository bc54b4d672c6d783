/**
 * xml-check: parseXml is a small, strict reader for the documents this module writes (elements,
 * double-quoted attributes, text, the five named entities and numeric references, an XML
 * declaration). It throws on anything not well-formed, naming the offset; tests use the tree it
 * returns to count bars, points and markers.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_][\w.:-]*/;
const ENTITY = /^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;
const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** parseXml returns the root element, or throws an Error naming the offset of the problem. */
export function parseXml(source: string): XmlElement {
  let i = 0;
  const fail = (problem: string): never => {
    throw new Error(`not well-formed XML at offset ${i}: ${problem}`);
  };
  const skipSpace = () => {
    while (i < source.length && /\s/.test(source[i]!)) i++;
  };
  const decode = (raw: string, where: string): string =>
    raw.replace(/&[^;]*;?/g, (m) => {
      const e = ENTITY.exec(m);
      if (!e) fail(`bad entity ${JSON.stringify(m)} in ${where}`);
      const ref = e![1]!;
      if (ref.startsWith("#x")) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
      if (ref.startsWith("#")) return String.fromCodePoint(Number(ref.slice(1)));
      return NAMED[ref]!;
    });

  skipSpace();
  if (source.startsWith("<?xml", i)) {
    const end = source.indexOf("?>", i);
    if (end < 0) fail("unterminated XML declaration");
    i = end + 2;
  }
  skipSpace();
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < source.length) {
    if (source[i] !== "<") {
      const end = source.indexOf("<", i);
      const raw = source.slice(i, end < 0 ? source.length : end);
      const top = stack.at(-1);
      if (!top) {
        if (raw.trim()) fail("text outside the root element");
      } else {
        if (raw.includes(">")) fail("raw '>' in text");
        top.text += decode(raw, `<${top.name}> text`);
      }
      i = end < 0 ? source.length : end;
      continue;
    }
    if (source.startsWith("</", i)) {
      i += 2;
      const name = NAME.exec(source.slice(i))?.[0] ?? fail("closing tag without a name");
      i += name.length;
      skipSpace();
      if (source[i] !== ">") fail(`closing tag </${name} not ended by '>'`);
      i++;
      const open = stack.pop();
      if (open?.name !== name) fail(`</${name}> closes <${open?.name ?? "nothing"}>`);
      continue;
    }
    i++;
    const name = NAME.exec(source.slice(i))?.[0] ?? fail("tag without a name");
    i += name.length;
    const node: XmlElement = { name, attrs: {}, children: [], text: "" };
    for (;;) {
      const before = i;
      skipSpace();
      if (source.startsWith("/>", i) || source[i] === ">") break;
      if (i === before) fail(`no space before an attribute of <${name}>`);
      const attr = NAME.exec(source.slice(i))?.[0] ?? fail(`bad attribute in <${name}>`);
      i += attr.length;
      if (source[i] !== "=" || source[i + 1] !== '"') fail(`attribute ${attr} needs ="…"`);
      const end = source.indexOf('"', i + 2);
      if (end < 0) fail(`unterminated value of ${attr}`);
      const raw = source.slice(i + 2, end);
      if (raw.includes("<")) fail(`raw '<' in the value of ${attr}`);
      if (attr in node.attrs) fail(`attribute ${attr} repeated in <${name}>`);
      node.attrs[attr] = decode(raw, `attribute ${attr}`);
      i = end + 1;
    }
    const top = stack.at(-1);
    if (top) top.children.push(node);
    else if (root) fail("a second root element");
    else root = node;
    if (source.startsWith("/>", i)) i += 2;
    else {
      i++;
      stack.push(node);
    }
  }
  if (stack.length > 0) fail(`<${stack.at(-1)!.name}> is never closed`);
  return root ?? fail("no root element");
}

/** findAll returns every element under (and including) `node` that matches `test`. */
export function findAll(node: XmlElement, test: (e: XmlElement) => boolean): XmlElement[] {
  const out: XmlElement[] = test(node) ? [node] : [];
  for (const c of node.children) out.push(...findAll(c, test));
  return out;
}

/** textOf is the text of an element and its descendants, in document order. */
export function textOf(node: XmlElement): string {
  return node.text + node.children.map(textOf).join("");
}
