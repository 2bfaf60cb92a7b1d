import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config';
import { defaultToolsDir } from '../../src/stack/temporal-binary';

describe('loadConfig: the Temporal binaries and the embedded dev server', () => {
  it('keeps provisioned binaries in <data dir>/tools unless FAXFLOW_TOOLS_DIR says otherwise', () => {
    expect(loadConfig({}).toolsDir).toBe(path.resolve('.faxflow', 'tools'));
    expect(loadConfig({ FAXFLOW_DATA_DIR: '/srv/fax' }).toolsDir).toBe('/srv/fax/tools');
    expect(loadConfig({ FAXFLOW_DATA_DIR: '/srv/fax', FAXFLOW_TOOLS_DIR: '/opt/t' }).toolsDir).toBe('/opt/t');
    // Tests and benches, which do not load the whole configuration, land in the same folder.
    expect(defaultToolsDir({ FAXFLOW_DATA_DIR: '/srv/fax' })).toBe('/srv/fax/tools');
    expect(defaultToolsDir({ FAXFLOW_TOOLS_DIR: '/opt/t' })).toBe('/opt/t');
  });

  it('reads the dev server ports, 0 meaning any free port, and rejects anything else', () => {
    expect(loadConfig({ FAXFLOW_TEMPORAL_PORT: '0', FAXFLOW_TEMPORAL_UI_PORT: '9233' })).toMatchObject({
      temporalPort: 0,
      temporalUiPort: 9233,
    });
    expect(loadConfig({})).toMatchObject({ temporalPort: undefined, temporalUiPort: undefined });
    expect(() => loadConfig({ FAXFLOW_TEMPORAL_PORT: '70000' })).toThrow(
      'FAXFLOW_TEMPORAL_PORT must be a port number from 0 to 65535.',
    );
  });
});
