import * as path from 'path';

/**
 * The build is self-contained: `nest build` copies the simulator and the dashboard assets into dist/ with the
 * same layout they have in the source tree, so both are found from this file (src/config or dist/src/config).
 */
const APP_ROOT = path.resolve(__dirname, '../..');

export const BUNDLED_SIMULATOR = path.join(APP_ROOT, 'apps/sc-server-sim/bin/ts3d_sc_server');
export const SIMULATOR_DUMMY_LICENSE = path.join(APP_ROOT, 'apps/sc-server-sim/dummy-license.txt');
export const SIMULATOR_SAMPLE_MODELS = path.join(APP_ROOT, 'apps/sc-server-sim/models');
