// Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion), used for
// env values, command, args and subPathExpr: `$(NAME)` becomes the variable's
// value when it is defined and stays as written when not; `$$` is an escaped
// `$`; anything else after `$` is kept literally.

export type Mapping = (name: string) => string;

/** A mapping over maps searched in order; unknown names are left as `$(NAME)`. */
export function mappingFor(...contexts: ReadonlyMap<string, string>[]): Mapping {
  return (name) => {
    for (const context of contexts) {
      const value = context.get(name);
      if (value !== undefined) return value;
    }
    return `$(${name})`;
  };
}

export function expand(input: string, mapping: Mapping): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const { text, isVar, advance } = readVariable(input.slice(cursor + 1));
    out += isVar ? mapping(text) : text;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** What follows one `$`: a variable name, an escaped `$`, or literal text. */
function readVariable(rest: string): { text: string; isVar: boolean; advance: number } {
  if (rest[0] === '$') return { text: '$', isVar: false, advance: 1 };
  if (rest[0] === '(') {
    const close = rest.indexOf(')', 1);
    if (close > 0) return { text: rest.slice(1, close), isVar: true, advance: close + 1 };
    // An unclosed reference is kept as written.
    return { text: '$(', isVar: false, advance: 1 };
  }
  return { text: `$${rest[0]}`, isVar: false, advance: 1 };
}
