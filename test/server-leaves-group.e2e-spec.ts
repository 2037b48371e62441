/**
 * End to end with the built service as a real process: a server that moves itself out of the process group it
 * leads (setpgid into another group of its session), leaving a child there (a zombie it never reaps), is still
 * stopped. The child made every signal to the group succeed, so the server itself never got one: SIGKILL "survived"
 * every grace, its slot and port held until the service was restarted, and it outlived the service's shutdown.
 */
import { chmodSync, writeFileSync } from 'fs';
import * as path from 'path';
import request from 'supertest';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess } from './support/spawner-app';
import {
  canBindPort,
  postSpawn,
  procStat,
  waitForProcessGone,
  waitForSpawnState,
  type SpawnView,
} from './support/spawner-e2e';
import { makeTempDir } from './support/temp';
import { waitFor } from './support/wait';

/** This file's ports (31950-31999): the service on 31999, its servers from 31950. */
const SERVICE_PORT = 31999;

/** Reports ready from its own group, then leaves it for a child's group, a zombie child left behind; ignores SIGTERM. */
const SERVER = String.raw`#!/usr/bin/perl
use strict; use warnings; use IO::Socket::INET; use POSIX ();
my %a; for (my $i = 0; $i < @ARGV; $i++) { $a{$1} = $ARGV[++$i] if $ARGV[$i] =~ /^--(.+)$/; }
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $a{'sc-port'}, Listen => 5, ReuseAddr => 1)
  or die "bind: $!";
my ($host, $port, $base) = $a{'liveliness-endpoint'} =~ m{^http://([^:/]+):(\d+)(/.*)$} or die 'endpoint';
my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port) or die "connect: $!";
print $s "POST $base/$a{id}?liveliness=ready HTTP/1.1\r\nHost: $host\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
my $answer = <$s>; close $s;
$SIG{TERM} = 'IGNORE';
POSIX::_exit(0) unless fork();
my $other = fork(); if (!$other) { POSIX::setpgid(0, 0); sleep 60; POSIX::_exit(0); }
select(undef, undef, undef, 0.2);
POSIX::setpgid(0, $other) or die "setpgid: $!";
sleep 60;
`;

describe('a server that leaves its process group (e2e, real process)', () => {
  const cleanup = useCleanup();

  it('is killed itself when its group signal reaches only a child it left there; its port comes back', async () => {
    const dir = makeTempDir(cleanup, 'sc-leaver-');
    const executable = path.join(dir, 'leaver');
    writeFileSync(executable, SERVER);
    chmodSync(executable, 0o755);
    const service = await startServiceProcess(SERVICE_PORT, {
      ...FAST_TIMINGS,
      SC_PORT_BASE: '31950',
      SC_PORT_COUNT: '2',
      SC_EXECUTABLE: executable,
      SC_LICENSE: 'test',
    });
    cleanup.add(() => service.stop(2000), `service process ${service.child.pid}`);

    const response = await postSpawn(service.url, {});
    expect(response.status).toBe(200);
    const spawn = response.body as SpawnView;
    const pid = spawn.pid!;
    cleanup.trackPid(pid);
    const other = await waitFor(() => (procStat(pid)?.pgrp !== pid ? procStat(pid)?.pgrp : undefined), 5000, {
      description: 'the server to leave its group',
    });
    cleanup.trackPid(other, { group: true });

    expect((await request(service.url).delete(`/spawns/${spawn.id}`)).status).toBeLessThan(300);
    const ended = await waitForSpawnState(service.url, spawn.id, 'exited', 5000);
    expect(ended.signal).toBe('SIGKILL');
    await waitForProcessGone(pid, 2000);
    await waitFor(() => canBindPort(spawn.wsPort), 5000, { description: `port ${spawn.wsPort} to be free` });
    expect(await service.stop()).toEqual({ code: 0, signal: null });
  });
});
