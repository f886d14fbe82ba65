/**
 * A strict little well-formedness check for the SVG/XML we generate: balanced tags, one root,
 * quoted attributes, and no raw `<` or unescaped `&` in text or attribute values.
 * Returns a list of problems (empty = well-formed).
 */
export function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
  const checkText = (text: string, where: string) => {
    if (text.includes('<')) problems.push(`raw < in ${where}: ${text.slice(0, 40)}`);
    for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) {
      entity.lastIndex = i;
      if (!entity.test(text)) problems.push(`unescaped & in ${where}: ${text.slice(i, i + 20)}`);
    }
  };
  let roots = 0;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = lt === -1 ? xml.slice(i) : xml.slice(i, lt);
    if (text.trim() && stack.length === 0) problems.push(`text outside the root: ${text.slice(0, 40)}`);
    checkText(text, 'text');
    if (lt === -1) break;
    const gt = xml.indexOf('>', lt);
    if (gt === -1) {
      problems.push('unterminated tag');
      break;
    }
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    const m = /^(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)$/.exec(tag);
    if (!m) {
      problems.push(`malformed tag <${tag.slice(0, 60)}>`);
      continue;
    }
    const [, close, name, attrs, selfClose] = m;
    for (const a of attrs.matchAll(/([\w:.-]+)="([^"]*)"/g)) checkText(a[2], `attribute ${a[1]} of <${name}>`);
    if (close) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}>`);
    } else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}
