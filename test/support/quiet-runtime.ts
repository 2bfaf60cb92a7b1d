// Every test process: Temporal's runtime logs warnings and errors only, so test output stays readable.
import { installTemporalRuntime } from '../../src/workers/runtime';

// Through pino at 'error' unless FAXFLOW_TEST_LOG_LEVEL asks for more: activities that fail on
// purpose would otherwise print a warning each.
installTemporalRuntime(
  (process.env.FAXFLOW_TEST_LOG_LEVEL?.toUpperCase() as 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | undefined) ??
    'ERROR',
);
