import * as ws from 'ws';
import { closeFrame, FrameTracker } from './frame-tracker';

/** ws's own framing (exported at runtime, not in @types/ws): the frames checked here are the ones ws really writes. */
const Sender = (ws as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } }).Sender;

/** One frame exactly as ws writes it (masked like a client's, or not like a server's). */
function frame(opcode: number, payload: Buffer, masked: boolean, fin = true): Buffer {
  return Buffer.concat(Sender.frame(Buffer.from(payload), { fin, opcode, mask: masked, readOnly: false, rsv1: false }));
}

function closePayload(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}

/** Feeds `stream` in chunks of the given sizes (cycled) and records the boundary flag after each chunk. */
function feed(tracker: FrameTracker, stream: Buffer, sizes: number[]): { payload: number; boundaries: boolean[] } {
  let payload = 0;
  const boundaries: boolean[] = [];
  for (let offset = 0, i = 0; offset < stream.length; i++) {
    const size = sizes[i % sizes.length];
    payload += tracker.push(stream.subarray(offset, offset + size));
    offset += size;
    boundaries.push(tracker.atBoundary);
  }
  return { payload, boundaries };
}

describe('FrameTracker', () => {
  it.each([
    ['masked (viewer to server)', true],
    ['unmasked (server to viewer)', false],
  ])(
    'counts data payload bytes across 7-bit, 16-bit and 64-bit lengths, fragments and control frames: %s',
    (_, masked) => {
      const frames = [
        frame(0x1, Buffer.from('hello'), masked), // text, 7-bit length
        frame(0x9, Buffer.from('ping!'), masked), // ping: not counted
        frame(0x2, Buffer.alloc(300, 1), masked), // binary, 16-bit length
        frame(0x2, Buffer.alloc(70_000, 2), masked, false), // first fragment, 64-bit length
        frame(0xa, Buffer.alloc(0), masked), // pong between fragments, empty
        frame(0x0, Buffer.alloc(10, 3), masked), // continuation
        frame(0x1, Buffer.alloc(0), masked), // empty text
      ];
      const stream = Buffer.concat(frames);
      for (const sizes of [[stream.length], [1], [2, 3, 5, 7], [13], [4096, 1, 65_536]]) {
        const tracker = new FrameTracker();
        const { payload } = feed(tracker, stream, sizes);
        expect(payload).toBe(5 + 300 + 70_000 + 10);
        expect(tracker.payloadBytes).toBe(payload);
        expect(tracker.atBoundary).toBe(true);
        expect(tracker.closeSeen).toBe(false);
      }
    },
  );

  it('is at a boundary exactly between frames', () => {
    const a = frame(0x2, Buffer.alloc(1000), false);
    const b = frame(0x2, Buffer.alloc(10), false);
    const tracker = new FrameTracker();
    expect(tracker.atBoundary).toBe(true);
    tracker.push(a.subarray(0, 1)); // half a header
    expect(tracker.atBoundary).toBe(false);
    tracker.push(a.subarray(1, 500)); // in the payload
    expect(tracker.atBoundary).toBe(false);
    tracker.push(a.subarray(500));
    expect(tracker.atBoundary).toBe(true);
    tracker.push(b);
    expect(tracker.atBoundary).toBe(true);
  });

  it.each([true, false])(
    'reads the close code of the first close frame, masked or not (masked=%s), even split byte by byte',
    (masked) => {
      const stream = Buffer.concat([
        frame(0x1, Buffer.from('bye'), masked),
        frame(0x8, closePayload(4321, 'going'), masked),
        frame(0x8, closePayload(1000), masked),
      ]);
      const tracker = new FrameTracker();
      feed(tracker, stream, [1]);
      expect(tracker.closeSeen).toBe(true);
      expect(tracker.closeCode).toBe(4321);
      expect(tracker.payloadBytes).toBe(3);
    },
  );

  it('counts data frames (a message started) but not pings, whatever the chunking', () => {
    const tracker = new FrameTracker();
    feed(tracker, frame(0x9, Buffer.from('ping'), true), [1]);
    expect(tracker.dataFrames).toBe(0);
    feed(tracker, frame(0x1, Buffer.from('hello'), true, false), [3, 1]);
    expect(tracker.dataFrames).toBe(1);
    feed(tracker, frame(0x0, Buffer.from('!'), true), [2]);
    expect(tracker.dataFrames).toBe(2);
  });

  it('a close frame without a code is 1005', () => {
    const tracker = new FrameTracker();
    tracker.push(frame(0x8, Buffer.alloc(0), true));
    expect(tracker).toMatchObject({ closeSeen: true, closeCode: 1005 });
  });

  it('closeFrame() builds frames the tracker (and ws) read back: masked toward a server, unmasked toward a viewer', () => {
    for (const masked of [true, false]) {
      const built = closeFrame(1011, 'server connection lost', masked);
      expect((built[1] & 0x80) !== 0).toBe(masked);
      const tracker = new FrameTracker();
      tracker.push(built);
      expect(tracker).toMatchObject({ closeSeen: true, closeCode: 1011, atBoundary: true });
    }
    // The reason is cut to the 123 bytes a close frame allows.
    expect(closeFrame(1001, 'x'.repeat(500), false).length).toBe(2 + 2 + 123);
  });

  it('counts complete messages: a fragmented message once, control frames never, byte by byte too', () => {
    const stream = Buffer.concat([
      frame(0x1, Buffer.from('one'), true),
      frame(0x2, Buffer.alloc(70_000), true, false), // first fragment
      frame(0x9, Buffer.from('ping'), true), // a ping between fragments
      frame(0x0, Buffer.alloc(10), true, false),
      frame(0x0, Buffer.alloc(5), true), // last fragment: the message is complete
      frame(0x1, Buffer.alloc(0), true), // an empty message is a message
    ]);
    for (const sizes of [[stream.length], [1], [3, 7, 1000]]) {
      const tracker = new FrameTracker();
      const { payload } = feed(tracker, stream, sizes);
      expect(tracker.messages).toBe(3);
      expect(payload).toBe(3 + 70_000 + 10 + 5);
    }
  });
});
