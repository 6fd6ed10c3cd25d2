#!/usr/bin/env python3
"""ptysim.py - a second serial-line simulator, joining two pseudo-terminals.

Opens two pty pairs, puts the slaves in raw mode, prints "SLAVE_A SLAVE_B" on
one line of stdout and relays master A -> master B and B -> A.  Each
direction models a UART transmitter at BAUD with 10 bits a byte (8N1):

  * a transmit FIFO of --fifo bytes; the simulator reads from the source
    master only while the FIFO has room, so the writer on the slave is
    back-pressured by the kernel pty buffer, as by a real driver;
  * every byte's completion time is computed from a monotonic clock
    (t_done[k] = t_done[k-1] + 10/baud, restarting when the line goes idle),
    and at every wake-up all bytes due by then are delivered, so the average
    rate is exact whatever the timer granularity;
  * faults, drawn independently per direction from a seeded RNG:
      --ber P       each of the 10 line bits is flipped with probability P.
                    Data bits flip in the delivered byte; a flipped start bit
                    loses the byte (the receiver misses it); a flipped stop
                    bit is a framing error, delivered as 0x00 (what Linux
                    n_tty does without IGNPAR/PARMRK).  --data-bits-only
                    restricts flips to the 8 data bits.
      --drop P      each byte is lost with probability P
      --burst-every S --burst-len S   noise bursts (exponential gaps): bytes
                    completing inside a burst are replaced by random bytes
      --outage-at S / --outage-after-bytes N, --outage-len T: from S seconds
                    after the first byte seen (or after N bytes carried in
                    total), for T seconds, every byte in both directions is
                    discarded
      --garbage-to A|B|AB  before anything else, a fake console banner
                    ("\\r\\nOpenWrt login: " + --garbage-random random bytes)
                    is put on the line towards that slave, at the moment the
                    first byte is seen (--garbage-when first, default) or
                    written straight into the master at start (--garbage-when start)
  * received bytes the slave's reader does not take are held (up to 1 MiB,
    then counted as overrun and lost).

Statistics are printed to stderr on SIGINT/SIGTERM (and every --stats-every
seconds if given).  Only the Python standard library is used.
"""

import argparse
import errno
import fcntl
import math
import os
import random
import select
import signal
import sys
import time
import tty

RX_LIMIT = 1 << 20


class Direction:
    def __init__(self, name, src, dst, args, rng, sim):
        self.name = name
        self.src = src          # master fd we read from (bytes written on the other slave)
        self.dst = dst          # master fd we write to (read by this slave's program)
        self.bt = 10.0 / args.baud if args.baud > 0 else 0.0
        self.cap = args.fifo
        self.args = args
        self.rng = rng
        self.sim = sim
        self.fifo = bytearray()
        self.t_head = None      # completion time of fifo[0]
        self.last_done = 0.0    # completion time of the last byte taken off the line
        self.out = bytearray()  # delivered, not yet written to dst
        self.ber_bits = 8 if args.data_bits_only else 10
        self.next_flip = self._geo(args.ber)   # bit index of next flipped bit
        self.bit = 0
        self.next_drop = self._geo(args.drop)  # byte index of next dropped byte
        self.nbyte = 0
        self.burst_at = None
        self.stats = dict(read=0, carried=0, delivered=0, flipped=0, start_lost=0,
                          framing=0, dropped=0, noise=0, outage_lost=0, overrun=0,
                          garbage=0)

    def _geo(self, p):
        if p <= 0:
            return math.inf
        if p >= 1:
            return 0
        u = self.rng.random()
        return int(math.floor(math.log(1.0 - u) / math.log1p(-p)))

    def room(self):
        return self.cap - len(self.fifo)

    def accept(self, data, now):
        if not data:
            return
        if not self.fifo:
            start = max(now, self.last_done)
            if self.args.trace_gaps > 0 and self.sim.first is not None:
                gap = start - self.last_done if self.last_done else start - self.sim.first
                if gap >= self.args.trace_gaps:
                    log("%s idle %.1f ms before t=%.3fs (burst of %d+ bytes)" %
                        (self.name, gap * 1000, start - self.sim.first, len(data)))
            self.t_head = start + self.bt
        self.fifo += data

    def next_due(self):
        return self.t_head if self.fifo else None

    def pump(self, now):
        """Deliver every byte whose transmission has completed by now."""
        if not self.fifo:
            return
        if self.bt == 0:
            k = len(self.fifo)
            times = [now] * k
        else:
            k = 0
            t = self.t_head
            times = []
            n = len(self.fifo)
            while k < n and t <= now:
                times.append(t)
                t += self.bt
                k += 1
            if k == 0:
                return
        chunk = bytes(self.fifo[:k])
        del self.fifo[:k]
        self.last_done = times[-1]
        if self.fifo:
            self.t_head = times[-1] + self.bt
        if self.sim.cap is not None:
            self.sim.cap.write(b'%d %.6f %s\n' % (0 if self.name == 'A->B' else 1,
                               times[0] - (self.sim.first or 0), chunk.hex().encode()))
        for c, t in zip(chunk, times):
            self.sim.on_carried(t)
            self.stats['carried'] += 1
            b = self._fault(c, t)
            if b is not None:
                if len(self.out) >= RX_LIMIT:
                    self.stats['overrun'] += 1
                else:
                    self.out.append(b)
                    self.stats['delivered'] += 1

    def _fault(self, c, t):
        a = self.args
        idx = self.nbyte
        self.nbyte += 1
        if self.sim.in_outage(t):
            self.stats['outage_lost'] += 1
            # the bits still pass in time: keep the fault processes aligned
            self.bit += self.ber_bits
            return None
        lost = False
        framing = False
        # line bits of this byte: with 10-bit model, index 0 = start,
        # 1..8 = data bits LSB first, 9 = stop
        while self.next_flip < self.bit + self.ber_bits:
            j = int(self.next_flip - self.bit)
            self.stats['flipped'] += 1
            if self.ber_bits == 8:
                c ^= 1 << j
            elif j == 0:
                lost = True
            elif j == 9:
                framing = True
            else:
                c ^= 1 << (j - 1)
            self.next_flip += 1 + self._geo(a.ber)
        self.bit += self.ber_bits
        if idx == self.next_drop:
            self.next_drop += 1 + self._geo(a.drop)
            self.stats['dropped'] += 1
            return None
        if lost:
            self.stats['start_lost'] += 1
            return None
        if framing:
            self.stats['framing'] += 1
            c = 0
        if a.burst_every > 0:
            if self.burst_at is None:
                self.burst_at = t + self.rng.expovariate(1.0 / a.burst_every)
            if t >= self.burst_at:
                if t < self.burst_at + a.burst_len:
                    self.stats['noise'] += 1
                    c = self.rng.randrange(256)
                else:
                    self.burst_at = t + self.rng.expovariate(1.0 / a.burst_every)
        return c

    def flush_out(self):
        if not self.out:
            return
        try:
            n = os.write(self.dst, self.out)
            del self.out[:n]
        except BlockingIOError:
            pass
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EIO):
                return
            raise


class Sim:
    def __init__(self, args):
        self.args = args
        self.first = None
        self.carried = 0
        self.outage_start = None
        self.outage_end = None
        if args.outage_len > 0 and args.outage_after_bytes < 0 and args.outage_at < 0:
            args.outage_at = 0.0
        self.outage_logged = False
        self.cap = open(args.capture, 'wb') if args.capture else None

    def on_first(self, now):
        if self.first is None:
            self.first = now
            if self.args.outage_len > 0 and self.args.outage_at >= 0:
                self.outage_start = now + self.args.outage_at
                self.outage_end = self.outage_start + self.args.outage_len
            return True
        return False

    def on_carried(self, t):
        self.carried += 1
        a = self.args
        if (a.outage_len > 0 and a.outage_after_bytes >= 0 and self.outage_start is None
                and self.carried >= a.outage_after_bytes):
            self.outage_start = t
            self.outage_end = t + a.outage_len

    def in_outage(self, t):
        if self.outage_start is None:
            return False
        inside = self.outage_start <= t < self.outage_end
        if inside and not self.outage_logged:
            self.outage_logged = True
            log("outage begins (%.3fs after first byte) for %.1fs" %
                (t - self.first, self.args.outage_len))
        return inside


def log(msg):
    sys.stderr.write("sim: %s\n" % msg)
    sys.stderr.flush()


def garbage_bytes(args, rng):
    g = b"\r\nOpenWrt login: "
    g += bytes(rng.randrange(256) for _ in range(args.garbage_random))
    return g


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--baud', type=int, default=115200)
    p.add_argument('--fifo', type=int, default=256, help='transmit FIFO bytes per direction')
    p.add_argument('--ber', type=float, default=0.0)
    p.add_argument('--data-bits-only', action='store_true')
    p.add_argument('--drop', type=float, default=0.0)
    p.add_argument('--burst-every', type=float, default=0.0, help='mean seconds between bursts')
    p.add_argument('--burst-len', type=float, default=0.02)
    p.add_argument('--outage-at', type=float, default=-1.0, help='seconds after first byte')
    p.add_argument('--outage-after-bytes', type=int, default=-1)
    p.add_argument('--outage-len', type=float, default=0.0)
    p.add_argument('--garbage-to', default='', help='A, B or AB')
    p.add_argument('--garbage-when', default='first', choices=['first', 'start'])
    p.add_argument('--garbage-random', type=int, default=200)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--trace-gaps', type=float, default=0.0,
                   help='log line idle gaps of at least this many seconds')
    p.add_argument('--capture', default='', help='log bytes put on the line (before faults) to this file')
    p.add_argument('--stats-every', type=float, default=0.0)
    args = p.parse_args()

    seed = args.seed or random.SystemRandom().randrange(1, 1 << 62)
    log("seed %d" % seed)
    ma, sa = os.openpty()
    mb, sb = os.openpty()
    for fd in (sa, sb):
        tty.setraw(fd)          # the sim keeps the slaves open: masters never see EIO
    for fd in (ma, mb):
        fl = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, fl | os.O_NONBLOCK)
    print(os.ttyname(sa), os.ttyname(sb), flush=True)

    sim = Sim(args)
    ab = Direction('A->B', ma, mb, args, random.Random(seed * 2 + 1), sim)
    ba = Direction('B->A', mb, ma, args, random.Random(seed * 2 + 2), sim)
    grng = random.Random(seed * 2 + 3)
    dirs = (ab, ba)
    to_dir = {'A': ba, 'B': ab}     # direction whose output reaches slave X

    if args.garbage_when == 'start':
        for side in args.garbage_to.upper():
            d = to_dir[side]
            g = garbage_bytes(args, grng)
            d.out += g
            d.stats['garbage'] += len(g)
            d.flush_out()

    stop = [False]

    def on_sig(signum, frame):
        stop[0] = True
    signal.signal(signal.SIGINT, on_sig)
    signal.signal(signal.SIGTERM, on_sig)

    t0 = time.monotonic()
    next_stats = t0 + args.stats_every if args.stats_every > 0 else math.inf
    while not stop[0]:
        now = time.monotonic()
        rl, wl = [], []
        for d in dirs:
            if d.room() > 0:
                rl.append(d.src)
            if d.out:
                wl.append(d.dst)
        dues = [d.next_due() for d in dirs if d.next_due() is not None]
        timeout = 0.2
        if dues:
            # at least 0.3 ms between wake-ups; lateness is caught up in pump()
            timeout = min(0.2, max(min(dues) - now, 0.0003))
        if next_stats < math.inf:
            timeout = min(timeout, max(next_stats - now, 0))
        try:
            r, w, _ = select.select(rl, wl, [], timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        for d in dirs:
            if d.src in r:
                try:
                    data = os.read(d.src, d.room())
                except BlockingIOError:
                    data = b''
                except OSError as e:
                    if e.errno == errno.EIO:
                        data = b''
                    else:
                        raise
                if data:
                    if sim.on_first(now):
                        log("first byte (%s)" % d.name)
                        if args.garbage_when == 'first':
                            for side in args.garbage_to.upper():
                                g = garbage_bytes(args, grng)
                                to_dir[side].accept(g, now)
                                to_dir[side].stats['garbage'] += len(g)
                    d.stats['read'] += len(data)
                    d.accept(data, now)
        for d in dirs:
            d.pump(now)
            d.flush_out()
        if now >= next_stats:
            next_stats = now + args.stats_every
            for d in dirs:
                log("%s %s" % (d.name, d.stats))
    if sim.cap:
        sim.cap.close()
    el = time.monotonic() - t0
    log("ran %.3fs" % el)
    for d in dirs:
        log("%s %s" % (d.name, d.stats))


if __name__ == '__main__':
    main()
