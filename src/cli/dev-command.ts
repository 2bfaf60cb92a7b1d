import { loadConfig } from '../config/config';
import { createApiKey } from '../db/api-keys';
import { DEFAULT_TENANT_ID } from '../db/tenants';
import { createLogger } from '../logger';
import { startStack } from '../stack/embedded-stack';
import { installTemporalRuntime, untilInterrupted } from '../workers/runtime';

/** `faxflow dev`: the embedded stack, kept running until Ctrl-C. Temporal history persists. */
export async function runDev(out: (line: string) => void): Promise<number> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  installTemporalRuntime('ERROR', logger);
  const stack = await startStack(config, logger, {
    persistTemporal: true,
    temporalPort: 7233,
    onProgress: out,
  });
  try {
    if (stack.uiUrl) out(`Temporal UI: ${stack.uiUrl}`);
    out(
      `Temporal frontend: ${stack.temporalAddress} (other shells: TEMPORAL_ADDRESS=${stack.temporalAddress} faxflow send ...)`,
    );
    if (stack.apiUrl) {
      // A key of the default tenant for this session, so the API can be tried at once (every route
      // needs one); production keys come from `faxflow api-keys create --tenant T`.
      const created = await createApiKey(stack.deps.database.db, {
        tenantId: DEFAULT_TENANT_ID,
        name: 'faxflow dev',
      });
      out(`HTTP API: ${stack.apiUrl} (POST /v1/faxes, GET /v1/faxes/:id, docs at ${stack.apiUrl}/docs)`);
      out(`API key for this session (tenant default): ${created.key}`);
    }
    if (stack.simulatorUrl)
      out(
        `RingCentral simulator: ${stack.simulatorUrl} (faxes it accepted: ${stack.simulatorUrl}/_sim/faxes)`,
      );
    out('Running; press Ctrl-C to stop.');
    const signal = await untilInterrupted();
    out(`${signal}: stopping.`);
    return 0;
  } finally {
    await stack.close();
  }
}
