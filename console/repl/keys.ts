/**
 * Turns what the terminal sends into editing keys. Ink splits its input into
 * escape sequences and runs of plain text; a run may hold several keys at
 * once (typing ahead, a paste, a test driver), so control characters inside
 * it are keys too: `\r` is Enter, `\t` is Tab, DEL is Backspace.
 */
export type KeyEvent =
  | { readonly kind: 'text'; readonly text: string }
  | {
      readonly kind:
        | 'enter'
        | 'tab'
        | 'backspace'
        | 'delete'
        | 'left'
        | 'right'
        | 'up'
        | 'down'
        | 'home'
        | 'end'
        | 'wordLeft'
        | 'wordRight'
        | 'deleteWordBack'
        | 'escape';
    }
  | { readonly kind: 'ctrl'; readonly key: string };

type NamedKey = Exclude<KeyEvent, { kind: 'text' } | { kind: 'ctrl' }>['kind'];

const SEQUENCES: Readonly<Record<string, NamedKey>> = {
  '[A': 'up',
  '[B': 'down',
  '[C': 'right',
  '[D': 'left',
  OA: 'up',
  OB: 'down',
  OC: 'right',
  OD: 'left',
  '[H': 'home',
  '[F': 'end',
  OH: 'home',
  OF: 'end',
  '[1~': 'home',
  '[4~': 'end',
  '[7~': 'home',
  '[8~': 'end',
  '[3~': 'delete',
  '[1;5C': 'wordRight',
  '[1;5D': 'wordLeft',
  '[1;3C': 'wordRight',
  '[1;3D': 'wordLeft',
  b: 'wordLeft',
  f: 'wordRight',
  '\x7f': 'deleteWordBack',
  '\b': 'deleteWordBack',
  '\r': 'enter',
};

export function decodeKeys(raw: string): KeyEvent[] {
  if (raw.startsWith('\x1b')) {
    if (raw === '\x1b' || raw === '\x1b\x1b') return [{ kind: 'escape' }];
    const named = SEQUENCES[raw.slice(1)];
    // Unknown sequences (function keys, mouse reports) are dropped rather than typed in.
    return named ? [{ kind: named }] : [];
  }
  const events: KeyEvent[] = [];
  let text = '';
  const flush = () => {
    if (text) events.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    const code = ch.charCodeAt(0);
    if (code >= 0x20 && code !== 0x7f) {
      text += ch;
      continue;
    }
    flush();
    if (ch === '\r' || ch === '\n') {
      events.push({ kind: 'enter' });
      if (ch === '\r' && raw[i + 1] === '\n') i++;
    } else if (ch === '\t') events.push({ kind: 'tab' });
    else if (ch === '\x7f' || ch === '\b') events.push({ kind: 'backspace' });
    else if (code >= 1 && code <= 26) events.push({ kind: 'ctrl', key: String.fromCharCode(code + 96) });
    // Other control characters (NUL, ^\, ^], …) mean nothing here.
  }
  flush();
  return events;
}
