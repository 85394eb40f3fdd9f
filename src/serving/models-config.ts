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

/** A protobuf text-format string literal. */
function quote(s: string): string {
  return `'${s.replace(/[\\'\n\r\t]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!)}'`;
}
