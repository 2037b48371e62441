import { SERVER_OOM_SCORE_ADJ, type LaunchCommand } from './process-launcher.adapter';

/**
 * The spawn helper: one small perl process per service that forks the servers. Node's spawn() forks the whole
 * service and waits for the child's exec on the main thread (7-15 ms a server here, measured, more the bigger the
 * service); 32 servers starting at once held the event loop for half a second while health checks and 503s
 * waited. The helper forks a process of a few MB instead, on its own CPU time, and the service only writes a
 * line. Like the one-shot wrapper it replaces, each child leads a new process group (or session, for the
 * autogroup mechanism), joins its cgroup, takes its nice, then execs the server in place (same pid).
 *
 * Requests (service -> helper stdin), one line each, fields hex-encoded (so any byte passes):
 *   launch <req> <cwd> <env: K=V\0K=V...> <argv: exe\0arg...> <cgroup.procs> <autogroup nice> <nice>
 * Answers (helper stdout): `pid <req> <pid> <start time>` (field 22 of /proc/<pid>/stat, read while SIGCHLD is
 * blocked, so before the child can be reaped and its pid reused; empty if unreadable), `fail <req> <message>`
 * (nothing started), and once the process is reaped, `exit <req> <code or -> <signal number or ->`; what is left
 * of its process group is killed just before it is reaped.
 * The child execs only once the service has recorded its pid: `go <req>` (service -> helper), sent on the turn after
 * the pid was read, by when the journal the next start reaps from has it; the helper then writes a byte on a pipe
 * to the child. A helper killed before that, or a service killed before it recorded the pid (the helper's stdin
 * ends), leaves no server the service did not record: the child exits 127 instead.
 * Output: before forking, the helper connects two Unix sockets to the service (in a folder only the service's
 * user can enter), sends `<req> stdout` / `<req> stderr` as their first line, and makes them the child's fd 1
 * and 2, so a server's output goes straight to the service. Once its stdin closes (the service ended, or crashed)
 * the helper starts nothing more and exits when the last of its servers has: until then it still kills each one's
 * group as it exits, so a server that exits while no service runs leaves nothing behind it. The servers still
 * running are reaped by the next start.
 * Given the prctl syscall's number (its second argument; where no cgroup of its own holds each server), the helper
 * is the servers' child subreaper: a process a server started in another process group or session (setsid, a
 * daemon's double fork) becomes the helper's child once its parents have exited. Its server is known by the
 * SC_SPAWNER_LAUNCH=<req> each server gets in its environment (inherited by what it starts): kept while that server
 * runs, killed once it has exited, or on the next look without one; `orphans <count>` says how many were killed.
 * Once its input has ended, the helper follows what a killed server left down every level before it exits.
 */
export const SPAWN_HELPER_SCRIPT = String.raw`
use strict; use warnings; use POSIX (); use Socket;
my ($path, $prctl) = @ARGV; my (%req_of, %go_of, %kept, %group_killed, $orphans_due); $| = 1;
# PR_SET_CHILD_SUBREAPER (36): orphans below the helper are reparented to it, not to init.
my $subreaper = defined $prctl && $prctl =~ /^\d+$/ && syscall($prctl, 36, 1) == 0;
# It shares the service's process group: a Ctrl-C, a hang-up or a group SIGTERM is the service's to handle (it stops
# the servers, then ends the helper). Held around each fork, so a child takes them as a server would.
# An answer the service can no longer read (it was killed) must not end the helper either: it still has servers to
# follow until they exit.
$SIG{INT} = $SIG{TERM} = $SIG{HUP} = $SIG{QUIT} = $SIG{PIPE} = 'IGNORE';
my $held = POSIX::SigSet->new(map { POSIX->can("SIG$_")->() } qw(CHLD INT TERM HUP QUIT));
sub reaped { my ($st, $req) = ($?, delete $req_of{$_[0]}); return unless defined $req; delete $go_of{$req};
  print "exit $req ", (($st & 127) ? "- " . ($st & 127) : ($st >> 8) . " -"), "\n"; }
sub zombie { open(my $f, '<', "/proc/$_[0]/stat") or return 0; my $s = <$f>; close $f;
  return defined $s && substr($s, rindex($s, ')') + 2, 1) eq 'Z'; }
sub reap { local ($!, $?);
  # An exited server's group is killed before the server is reaped: as a zombie it still holds its pid, so the
  # group id cannot name anyone else's group yet. Reaped first, its pid could be reused by then.
  for my $pid (grep { zombie($_) } keys %req_of) {
    group_kill($pid); reaped($pid) if waitpid($pid, POSIX::WNOHANG()) == $pid;
  }
  # One that exited after that look is reaped here: its group is killed unless its pid already names another process
  # (while a member of its group lives, the pid cannot be taken).
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    group_kill($pid) if exists $req_of{$pid} && !-e "/proc/$pid";
    reaped($pid); delete $kept{$pid};
  }
  # Looked for from the main loop (run_orphans), never from this handler: between a fork and the line recording
  # the new server, the handler would take the server for an orphan.
  $orphans_due = 1 if $subreaper;
}
# Remembered for the next look for orphans only (a subreaper's), which forgets them: nothing piles up.
sub group_kill { my $signalled = kill('KILL', -$_[0]); $group_killed{$_[0]} = 1 if $signalled && $subreaper; }
sub children { open(my $f, '<', "/proc/$$/task/$$/children") or return (); my $list = <$f>; close $f;
  return split ' ', $list // ''; }
# The children that are not servers were adopted (the helper is their subreaper): their parents have exited. One
# whose server still runs is kept until it exits; any other is killed. Unreaped children of the helper, their pids
# cannot be anyone else's meanwhile.
sub run_orphans { return unless $orphans_due; my $mask = POSIX::SigSet->new;
  POSIX::sigprocmask(POSIX::SIG_BLOCK(), POSIX::SigSet->new(POSIX::SIGCHLD()), $mask); $orphans_due = 0;
  my %running = map { $_ => 1 } values %req_of; my $killed = 0;
  for my $pid (children()) {
    # Killed with its server's group a moment ago, it may not have exited yet: not counted twice.
    next if exists $req_of{$pid} || zombie($pid) || $group_killed{group_of($pid) // ''};
    my $req = $kept{$pid} // launch_of($pid);
    if (defined $req && $running{$req}) { $kept{$pid} = $req; next; }
    delete $kept{$pid}; $killed += kill('KILL', $pid);
  }
  %group_killed = (); print "orphans $killed\n" if $killed; POSIX::sigprocmask(POSIX::SIG_SETMASK(), $mask); }
sub group_of { open(my $f, '<', "/proc/$_[0]/stat") or return; my $s = <$f>; close $f; return unless defined $s;
  return (split / /, substr($s, rindex($s, ')') + 2))[2]; }
sub launch_of { open(my $f, '<', "/proc/$_[0]/environ") or return; local $/; my $env = <$f>; close $f;
  return defined $env && $env =~ /(?:^|\0)SC_SPAWNER_LAUNCH=([^\0]+)/ ? $1 : undef; }
$SIG{CHLD} = \&reap;
# Perl runs a signal's handler between two of its own operations, not when the signal comes: a SIGCHLD that comes
# just before the helper blocks waiting for input is handled only once that wait ends, at the service's next line.
# Measured: 32 servers SIGTERMed at once, 1,968 times: 29 exits went unreported, their spawns terminating (port and
# slot held) until another spawn came. So while servers run, each wait ends after a second: a handler left pending
# runs then, and a look for exits backs it up.
my $chld = POSIX::SigSet->new(POSIX::SIGCHLD());
sub reap_now { my $mask = POSIX::SigSet->new; POSIX::sigprocmask(POSIX::SIG_BLOCK(), $chld, $mask); reap();
  POSIX::sigprocmask(POSIX::SIG_SETMASK(), $mask); }
my ($in, $eof) = ('', 0);
sub next_line {
  while (1) {
    run_orphans();
    my $at = index($in, "\n"); return substr($in, 0, $at + 1, '') if $at >= 0;
    return undef if $eof;
    my $readable = ''; vec($readable, fileno(STDIN), 1) = 1;
    my $ready = select($readable, undef, undef, %req_of ? 1 : undef);
    if ($ready < 0 && !$!{EINTR}) { $eof = 1; next; }
    if ($ready <= 0) { reap_now() if $ready == 0; next; }
    my $got = sysread(STDIN, $in, 65536, length $in);
    if (defined $got) { $eof = 1 if $got == 0; } elsif (!$!{EINTR} && !$!{EAGAIN}) { $eof = 1; }
  }
}
sub out { my ($req, $name) = @_; socket(my $s, AF_UNIX, SOCK_STREAM, 0) or return;
  connect($s, pack_sockaddr_un($path)) or return; syswrite($s, "$req $name\n") or return; return $s; }
sub fail { syswrite(STDERR, "sc-spawner wrapper: $_[0]\n"); POSIX::_exit(127); }
sub start_time { open(my $f, '<', "/proc/$_[0]/stat") or return ''; my $s = <$f>; close $f; return '' unless defined $s;
  my @f = split / /, substr($s, rindex($s, ')') + 2); return (defined $f[19] && $f[19] =~ /^\d+$/) ? $f[19] : ''; }
while (defined(my $line = next_line())) {
  chomp $line; my ($verb, $req, @f) = split / /, $line, -1;
  if (defined $verb && $verb eq 'go' && defined $req) {
    my $go_w = delete $go_of{$req}; if ($go_w) { syswrite($go_w, 'g'); close $go_w; } next;
  }
  next unless defined $verb && $verb eq 'launch' && @f == 6;
  my ($cwd, $env, $argv, $procs, $group_nice, $nice) = map { pack('H*', $_) } @f;
  my ($o, $e) = (out($req, 'stdout'), out($req, 'stderr'));
  if (!$o || !$e) { print "fail $req cannot reach the service's output socket: $!\n"; next; }
  my ($go_r, $go_w); if (!pipe($go_r, $go_w)) { print "fail $req pipe: $!\n"; next; }
  POSIX::sigprocmask(POSIX::SIG_BLOCK(), $held);
  my $pid = fork;
  if (defined $pid && $pid == 0) {
    # A server takes every signal as usual (SIGTERM stops it); no handler of the helper's may interrupt the wait below.
    close $_ for $go_w, values %go_of; $SIG{$_} = 'DEFAULT' for qw(CHLD INT TERM HUP QUIT PIPE);
    POSIX::sigprocmask(POSIX::SIG_SETMASK(), POSIX::SigSet->new());
    open(STDIN, '<', '/dev/null') && open(STDOUT, '>&', $o) && open(STDERR, '>&', $e) or POSIX::_exit(127);
    if ($group_nice ne '') {
      POSIX::setsid() or fail("setsid: $!"); my $f;
      open($f, '>', '/proc/self/autogroup') && print($f $group_nice) && close($f)
        or syswrite(STDERR, "sc-spawner wrapper: autogroup nice $group_nice not set: $!\n");
    } else { setpgrp(0, 0) or fail("setpgrp: $!"); }
    if ($procs ne '') { my $f; open($f, '>', $procs) && print($f $$) && close($f) or fail("cannot join $procs: $!"); }
    if ($nice > 0) { setpriority(0, 0, $nice) or fail("setpriority $nice: $!"); }
    my $adj; open($adj, '>', '/proc/self/oom_score_adj') && print($adj ${SERVER_OOM_SCORE_ADJ}) && close($adj)
      or syswrite(STDERR, "sc-spawner wrapper: oom_score_adj not set: $!\n");
    if ($cwd ne '') { chdir($cwd) or fail("cannot enter $cwd: $!"); }
    %ENV = map { split(/=/, $_, 2) } grep { /=/ } split(/\0/, $env); $ENV{SC_SPAWNER_LAUNCH} = $req if $subreaper;
    my @argv = split(/\0/, $argv, -1);
    sysread($go_r, my $go, 1) or POSIX::_exit(127);
    exec { $argv[0] } @argv or fail("cannot start $argv[0]: $!");
  }
  close $go_r;
  # It execs only once the service has recorded its pid (a go line); without one, it exits 127 when $go_w closes.
  if (defined $pid) { $req_of{$pid} = $req; $go_of{$req} = $go_w; print "pid $req $pid ", start_time($pid), "\n"; }
  else { print "fail $req fork: $!\n"; close $go_w; }
  POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $held);
}
# No more launches, nor go lines: a child still waiting for one exits 127. Its servers' parent until they have
# exited, so each one's group is still killed as it exits (the SIGCHLD handler), even once the service that reads the
# answers is gone.
my @waiting = values %go_of; %go_of = (); close $_ for @waiting;
while (%req_of) { sleep 1; run_orphans(); }
# What the servers left becomes the helper's a level at a time, as each parent above it dies: followed until
# nothing is left (5 s at most: a process that cannot die, stuck in the kernel, is left to init).
for (1 .. 100) { reap_now(); $orphans_due = $subreaper; run_orphans(); last unless $subreaper && children();
  select(undef, undef, undef, 0.05); }
`;

/** The prctl syscall's number on each architecture Node runs on (Linux's unistd tables). */
export const PRCTL_SYSCALL: Partial<Record<NodeJS.Architecture, number>> = {
  x64: 157,
  arm64: 167,
  riscv64: 167,
  loong64: 167,
  ia32: 172,
  arm: 172,
  s390x: 172,
  ppc64: 171,
};

const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');

/** The request line that asks the helper to start `command` (its placement has the wrapper: perl). */
export function launchRequest(req: string, command: LaunchCommand): string {
  // spawn() refuses a NUL in an argument or the environment; here it would split one into two.
  const all = [command.executable, ...command.args, ...Object.entries(command.env).flat(), command.cwd ?? ''];
  if (all.some((text) => text?.includes('\0'))) throw new Error('a NUL character in the command or environment');
  const env = Object.entries(command.env)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${value}`)
    .join('\0');
  const { placement } = command;
  const fields = [
    command.cwd ?? '',
    env,
    [command.executable, ...command.args].join('\0'),
    placement.cgroupProcs ?? '',
    placement.autogroupNice?.toString() ?? '',
    String(placement.nice),
  ];
  return `launch ${req} ${fields.map(hex).join(' ')}\n`;
}

export type HelperAnswer =
  | { kind: 'pid'; req: string; pid: number; startTime: string | undefined }
  | { kind: 'fail'; req: string; message: string }
  | { kind: 'exit'; req: string; code: number | null; signal: number | null }
  | { kind: 'orphans'; killed: number };

/** One line of the helper's stdout; undefined for anything else. */
export function parseHelperAnswer(line: string): HelperAnswer | undefined {
  const [kind, req, ...rest] = line.split(' ');
  if (!req) return undefined;
  if (kind === 'orphans' && /^\d+$/.test(req) && rest.length === 0) return { kind, killed: Number(req) };
  if (kind === 'pid' && /^\d+$/.test(rest[0] ?? '')) {
    return { kind, req, pid: Number(rest[0]), startTime: /^\d+$/.test(rest[1] ?? '') ? rest[1] : undefined };
  }
  if (kind === 'fail') return { kind, req, message: rest.join(' ') };
  if (kind === 'exit' && rest.length === 2) {
    const number = (field: string) => (/^\d+$/.test(field) ? Number(field) : null);
    return { kind, req, code: number(rest[0]), signal: number(rest[1]) };
  }
  return undefined;
}
