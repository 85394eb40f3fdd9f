import { UNSAFE_CHAR_SOURCE } from '../../grammar/control-chars.js';
import { MlmodelError } from '../errors.js';

/**
 * TensorFlow Serving's `--model_config_file` in its text format
 * (ModelServerConfig → model_config_list). Each served model lists exactly
 * its complete versions under a `specific` version policy, so a server
 * watching the base never loads a version that is still being written.
 */
export interface ServedModel {
  /** `<user>_<name>`: the name clients use in /v1/models/<name>. */
  readonly name: string;
  /** Where the numbered version directories live: a path or an s3:// URL. */
  readonly basePath: string;
  readonly versions: readonly number[];
  /** label → version; one version per label. */
  readonly labels: Readonly<Record<string, number>>;
}

export function renderModelsConfig(models: readonly ServedModel[]): string {
  const sorted = [...models].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines = ['model_config_list {'];
  for (const m of sorted) {
    lines.push('  config {');
    lines.push(`    name: ${quote(m.name)}`);
    lines.push(`    base_path: ${quote(m.basePath)}`);
    lines.push(`    model_platform: 'tensorflow'`);
    lines.push('    model_version_policy {');
    lines.push('      specific {');
    for (const v of [...m.versions].sort((a, b) => a - b)) lines.push(`        versions: ${v}`);
    lines.push('      }');
    lines.push('    }');
    for (const [label, version] of Object.entries(m.labels).sort(([a], [b]) => (a < b ? -1 : 1))) {
      lines.push('    version_labels {');
      lines.push(`      key: ${quote(label)}`);
      lines.push(`      value: ${version}`);
      lines.push('    }');
    }
    lines.push('  }');
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/**
 * A protobuf text-format string literal, escaped the way protobuf's own
 * printer (CEscape) does: quote, backslash, `\n` `\r` `\t` by name, and
 * every byte of a character that could act on a terminal or stop a parser (a
 * NUL, C0 and C1 controls, DEL, bidi and other format characters) as
 * three-digit octal on its UTF-8 bytes. Other text stays readable UTF-8. A
 * lone surrogate has no UTF-8 form at all and is refused.
 */
export function quote(s: string): string {
  if (/\p{Cs}/u.test(s)) {
    throw new MlmodelError('INVALID_ARGUMENT', `${JSON.stringify(s)} holds a lone UTF-16 surrogate, which models.config cannot hold`);
  }
  return `'${s.replace(ESCAPED, (c) => NAMED[c] ?? octal(c))}'`;
}

const NAMED: Readonly<Record<string, string>> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const ESCAPED = new RegExp(`[\\\\'"]|${UNSAFE_CHAR_SOURCE}`, 'gu');

function octal(c: string): string {
  return [...Buffer.from(c, 'utf8')].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
}
