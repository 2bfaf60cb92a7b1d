// Every test process: Temporal's runtime logs warnings and errors only, so test output stays readable.
import { installTemporalRuntime } from '../../src/workers/runtime';

installTemporalRuntime('WARN');
