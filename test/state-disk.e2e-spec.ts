/**
 * End to end with the built service as a real process whose files may not grow (prlimit --fsize, what a full
 * disk does to the state folder: a short write, then an error): the journal is never left torn, no temporary
 * file piles up, and a state folder that cannot take the instance lock stops start-up with one line.
 */
import { spawnSync } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { freePort } from './support/ports';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, SERVICE_MAIN, startServiceProcess } from './support/spawner-app';
import { postSpawn, type SpawnView } from './support/spawner-e2e';
import { makeTempDir } from './support/temp';

const PORT_BASE = 24600;
/** Room for the instance lock and a journal of a few servers, not of twelve. */
const FILE_SIZE_LIMIT = 2048;

describe('a state folder on a full disk (e2e, real process)', () => {
  const cleanup = useCleanup();

  it('keeps the journal whole and leaves no temporary file when it cannot be written', async () => {
    const stateDir = makeTempDir(cleanup, 'sc-state-');
    const service = await startServiceProcess(
      await freePort(),
      { ...FAST_TIMINGS, SC_PORT_BASE: String(PORT_BASE), SC_MAX_SPAWNS: '12', SC_STATE_DIR: stateDir },
      { runUnder: ['prlimit', `--fsize=${FILE_SIZE_LIMIT}`] },
    );
    cleanup.add(() => service.stop(2000), `service process ${service.child.pid}`);
    const responses = await Promise.all(Array.from({ length: 12 }, () => postSpawn(service.url, {})));
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
    for (const response of responses) cleanup.trackPid((response.body as SpawnView).pid!, { group: true });

    const journal = path.join(stateDir, 'spawns.json');
    if (existsSync(journal)) expect(() => JSON.parse(readFileSync(journal, 'utf8')) as unknown).not.toThrow();
    expect(readdirSync(stateDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(service.output.join('')).toContain('cannot write');
    expect(await service.stop()).toEqual({ code: 0, signal: null });
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('stops start-up with one line naming the state folder when the instance lock cannot be written', async () => {
    const stateDir = makeTempDir(cleanup, 'sc-state-');
    const run = spawnSync('prlimit', ['--fsize=0', process.execPath, SERVICE_MAIN], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
        SC_STATE_DIR: stateDir,
      },
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^sc-spawner: state folder .* cannot be used: EFBIG.*set SC_STATE_DIR$/) as unknown,
    ]);
    expect(readdirSync(stateDir)).toEqual([]);
  });
});
