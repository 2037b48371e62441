/**
 * The spawn helper's socket folder with TMPDIR in a folder every user may write to without the sticky bit: another
 * local user (nobody) renames every `sc-launch-*` there away and puts one of theirs in its place, listening on its
 * `output.sock`. None of a server's output may reach them, and the service's log still has it.
 */
import { type ChildProcessByStdio, spawn } from 'child_process';
import { chmodSync, mkdirSync, readdirSync } from 'fs';
import * as path from 'path';
import type { Readable } from 'stream';
import { freePort } from './support/ports';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import { postSpawn, type SpawnView, waitForSpawnState } from './support/spawner-e2e';
import { makeTempDir } from './support/temp';
import { sleep, waitFor } from './support/wait';

const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: '31300', SC_PORT_COUNT: '10', PUBLIC_ENDPOINT: 'proxy' };
const NOBODY = '65534';

/** Swaps each helper folder it finds in `dir` for one of its own and prints what comes in on its socket. */
const ATTACKER = String.raw`
use strict; use warnings; use Socket; use IO::Select; $| = 1;
my ($dir) = @ARGV; my (%mine, %listener); my $select = IO::Select->new; print "ready\n";
while (1) {
  opendir(my $d, $dir) or die "opendir: $!";
  for my $name (grep { /^sc-launch-/ && !/-gone$/ && !$mine{$_} } readdir $d) {
    rename("$dir/$name", "$dir/$name-gone") or next; mkdir("$dir/$name") or next; $mine{$name} = 1;
    socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die; bind($s, pack_sockaddr_un("$dir/$name/output.sock")) or die;
    listen($s, 16) or die; chmod(0777, "$dir/$name", "$dir/$name/output.sock");
    $listener{fileno $s} = 1; $select->add($s); print "swapped $name\n";
  }
  closedir $d;
  for my $fh ($select->can_read(0.02)) {
    if ($listener{fileno $fh}) { my $c; accept($c, $fh) and $select->add($c); next; }
    my $n = sysread($fh, my $buf, 65536); if (!$n) { $select->remove($fh); close $fh; next; }
    print "got $_\n" for split /\n/, $buf;
  }
}`;

describe('the spawn helper with TMPDIR where any user may rename (e2e, real processes)', () => {
  const cleanup = useCleanup();

  (process.getuid?.() === 0 ? it : it.skip)(
    "another user who swaps the helper's folder gets no server's output; the service's log has it",
    async () => {
      const root = makeTempDir(cleanup, 'sc-tmp-trust-');
      chmodSync(root, 0o755);
      const shared = path.join(root, 'ww');
      mkdirSync(shared);
      chmodSync(shared, 0o777); // world-writable, no sticky bit
      const stateDir = makeTempDir(cleanup, 'sc-tmp-trust-state-');

      const attacker: ChildProcessByStdio<null, Readable, Readable> = spawn(
        'setpriv',
        ['--reuid', NOBODY, '--regid', NOBODY, '--clear-groups', '--', 'perl', '-e', ATTACKER, shared],
        { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      cleanup.trackChild(attacker, { group: true });
      let heard = '';
      attacker.stdout.on('data', (chunk: Buffer) => (heard += chunk.toString()));
      attacker.stderr.on('data', (chunk: Buffer) => (heard += chunk.toString()));
      await waitFor(() => heard.includes('ready\n'), 5000, { description: 'the attacker to run' });

      const service = await startServiceProcess(await freePort(), { ...ENV, TMPDIR: shared, SC_STATE_DIR: stateDir });
      cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);
      const spawned: SpawnView[] = [];
      for (let i = 0; i < 2; i++) {
        const answer = await postSpawn(service.url, {});
        expect(answer.status).toBe(200);
        const view = answer.body as SpawnView;
        cleanup.trackPid(view.pid!, { group: true });
        await waitForSpawnState(service.url, view.id, 'ready');
        spawned.push(view);
        await sleep(1000); // the attacker looks every 20 ms
      }
      const log = () => service.output.join('');
      for (const view of spawned) {
        await waitFor(() => log().includes(`[sc-sim ${view.id}]`), 5000, { description: `${view.id}'s output` });
      }
      expect(log()).toMatch(/it goes in the state folder/);
      expect(readdirSync(shared)).toEqual([]);
      expect(readdirSync(stateDir).filter((name) => name.startsWith('sc-launch-'))).toHaveLength(1);
      await service.stop(5000);
      expect(heard).toBe('ready\n');
    },
    60_000,
  );
});
