import { describe, expect, it } from 'vitest';
import { renderModelsConfig } from '../../src/serving/models-config.js';

describe('renderModelsConfig', () => {
  it("writes TF Serving's model_config_list with specific versions and labels, sorted", () => {
    expect(
      renderModelsConfig([
        { name: 'root_mnist_v1', basePath: '/srv/models/root_mnist_v1', versions: [2, 1], labels: { stable: 2, "it's": 1 } },
        { name: 'alice_clothes', basePath: 's3://serving/models/alice_clothes', versions: [1], labels: {} },
      ]),
    ).toBe(
      [
        'model_config_list {',
        '  config {',
        "    name: 'alice_clothes'",
        "    base_path: 's3://serving/models/alice_clothes'",
        "    model_platform: 'tensorflow'",
        '    model_version_policy {',
        '      specific {',
        '        versions: 1',
        '      }',
        '    }',
        '  }',
        '  config {',
        "    name: 'root_mnist_v1'",
        "    base_path: '/srv/models/root_mnist_v1'",
        "    model_platform: 'tensorflow'",
        '    model_version_policy {',
        '      specific {',
        '        versions: 1',
        '        versions: 2',
        '      }',
        '    }',
        '    version_labels {',
        "      key: 'it\\'s'",
        '      value: 1',
        '    }',
        '    version_labels {',
        "      key: 'stable'",
        '      value: 2',
        '    }',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('writes an empty list when nothing is served', () => {
    expect(renderModelsConfig([])).toBe('model_config_list {\n}\n');
  });
});
