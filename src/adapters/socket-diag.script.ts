/**
 * The perl side of KernelSocketTable: one long-lived process that asks the kernel for single TCP sockets over
 * NETLINK_SOCK_DIAG (the interface `ss` uses). An exact-match request (SOCK_DIAG_BY_FAMILY without NLM_F_DUMP)
 * is a hash lookup in the kernel, where reading /proc/net/tcp formats every socket of the machine (TIME_WAIT
 * ones included: ~3.5 us each, 8 ms with 2,000 of them, on every liveliness connection). Node.js cannot open
 * netlink sockets; perl (Debian's perl-base, always there) can, with no module beyond Socket.
 *
 * Protocol, one line each way:
 *   first line out:  `ready` or `unavailable <reason>` (then it exits)
 *   in:   `<req> <family 2|10> <src: 32 hex digits> <sport> <dst: 32 hex digits> <dport>`
 *   out:  `<req> inode <n> <uid>` | `<req> absent` | `<req> error <reason>`
 * Only an open, connected socket with exactly those ends is answered with its inode, and the user owning it.
 */
export const SOCK_DIAG_SCRIPT = String.raw`
use strict; use warnings;
$| = 1;
# It shares the service's process group: a Ctrl-C, a hang-up or a group SIGTERM is the service's to handle; it ends
# with its stdin.
$SIG{INT} = $SIG{TERM} = $SIG{HUP} = $SIG{QUIT} = 'IGNORE';
# AF_NETLINK = 16, SOCK_RAW = 3, NETLINK_SOCK_DIAG = 4
socket(my $nl, 16, 3, 4) or do { print "unavailable $!\n"; exit 0; };
print "ready\n";
my $seq = 0;
my $mapped = ("\0" x 10) . "\xff\xff";
while (my $line = <STDIN>) {
  chomp $line;
  my ($req, $family, $src, $sport, $dst, $dport) = split / /, $line;
  next unless defined $dport && $req =~ /^\w+$/;
  unless ($family =~ /^(2|10)$/ && $src =~ /^[0-9a-f]{32}$/ && $dst =~ /^[0-9a-f]{32}$/
      && $sport =~ /^\d{1,5}$/ && $dport =~ /^\d{1,5}$/) { print "$req error bad request\n"; next; }
  $seq = ($seq + 1) % 4294967295;
  # struct inet_diag_sockid: ports (big-endian), addresses (16 bytes each), interface, cookie (none: ~0).
  my $id = pack('nn', $sport, $dport) . pack('H32', $src) . pack('H32', $dst) . pack('L', 0) . pack('LL', 0xffffffff, 0xffffffff);
  # struct inet_diag_req_v2: family, IPPROTO_TCP, no extensions, every state.
  my $body = pack('CCCxL', $family, 6, 0, 0xffffffff) . $id;
  # struct nlmsghdr: SOCK_DIAG_BY_FAMILY = 20, NLM_F_REQUEST = 1.
  unless (send($nl, pack('LSSLL', 16 + length($body), 20, 1, $seq, 0) . $body, 0)) { print "$req error send: $!\n"; next; }
  my $answer;
  while (!defined $answer) {
    my $buf;
    unless (defined recv($nl, $buf, 65536, 0)) { $answer = "error recv: $!"; last; }
    for (my $at = 0; $at + 16 <= length($buf) && !defined $answer; ) {
      my ($len, $type, undef, $got) = unpack('LSSL', substr($buf, $at, 12));
      last if $len < 16;
      if ($got == $seq) {
        if ($type == 2) {  # NLMSG_ERROR: -errno; ENOENT (2) when no such socket
          my $errno = -unpack('l', substr($buf, $at + 16, 4));
          $answer = $errno == 2 ? 'absent' : "error errno $errno";
        } elsif ($type == 20 && $len >= 16 + 72) {
          # struct inet_diag_msg: family, state, timer, retrans (4), id (48), expires, queues, uid (16), inode.
          # With no connection of these ends the kernel answers with a LISTENING socket on the same local end (its
          # lookup falls back as for an incoming packet): not the peer, whoever holds it. Only the very connection
          # counts: its ends as asked, not listening, and a socket still open (inode 0: TIME_WAIT, orphaned).
          my $state = unpack('C', substr($buf, $at + 17, 1));
          my $inode = unpack('L', substr($buf, $at + 16 + 68, 4));
          my $uid = unpack('L', substr($buf, $at + 16 + 64, 4));
          my ($ports, @ends) = (substr($buf, $at + 20, 4), substr($buf, $at + 24, 16), substr($buf, $at + 40, 16));
          # An AF_INET6 socket with IPv4-mapped ends answers an IPv4 question in its own (mapped) form.
          for (@ends) { $_ = substr($_, 12, 4) . ("\0" x 12) if $family == 2 && substr($_, 0, 12) eq $mapped; }
          my $same = $ports . join('', @ends) eq substr($id, 0, 36);
          $answer = ($state != 10 && $same && $inode != 0) ? "inode $inode $uid" : 'absent';
        }
      }
      $at += ($len + 3) & ~3;
    }
  }
  print "$req $answer\n";
}
`;
