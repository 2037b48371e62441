import { randomBytes } from 'crypto';

const OPCODE_CLOSE = 0x8;
/** Continuation (0), text (1) and binary (2) frames carry message data; 8-10 are control frames. */
const LAST_DATA_OPCODE = 0x2;

/**
 * Follows the WebSocket frames (RFC 6455 §5.2) in one direction of a byte stream without copying or
 * unmasking payloads: it reads only the 2 to 14 header bytes of each frame and skips the payload by length.
 * It tells how many message payload bytes went by, whether the stream is between two frames (so a frame
 * of our own may be inserted), and the status code of the first close frame, if one has gone by.
 */
export class FrameTracker {
  private readonly header = Buffer.alloc(14);
  private headerLength = 0;
  private headerNeeded = 2;
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  private inData = false;
  private inClose = false;
  private closeMask: Buffer | undefined;
  private closeCodeBytes: number[] = [];
  /** Whether a close frame has started going by. */
  closeSeen = false;
  /** The status code in that close frame (1005 when it has none), once its first two payload bytes went by. */
  closeCode: number | undefined;
  /** Message payload bytes seen so far (data frames only; framing and control frames excluded). */
  payloadBytes = 0;
  /** Complete messages seen so far: data frames with FIN set (the last frame of each message), control frames excluded. */
  messages = 0;
  /** Data frames (text, binary, continuation) whose header has gone by: a message has started once this is > 0. */
  dataFrames = 0;

  /** True between frames: what comes next is the first byte of a frame header. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.headerLength === 0;
  }

  /** Follows a chunk; returns how many message payload bytes it carried. */
  push(chunk: Buffer): number {
    let payload = 0;
    let i = 0;
    const length = chunk.length;
    while (i < length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, length - i);
        if (this.inData) payload += n;
        else if (this.inClose) this.collectCloseCode(chunk, i, n);
        this.remaining -= n;
        i += n;
        continue;
      }
      this.header[this.headerLength++] = chunk[i++];
      if (this.headerLength === 2) {
        const lengthCode = this.header[1] & 0x7f;
        this.headerNeeded = 2 + (lengthCode === 126 ? 2 : lengthCode === 127 ? 8 : 0) + (this.header[1] & 0x80 ? 4 : 0);
      }
      if (this.headerLength >= 2 && this.headerLength === this.headerNeeded) this.startFrame();
    }
    this.payloadBytes += payload;
    return payload;
  }

  private startFrame(): void {
    const opcode = this.header[0] & 0x0f;
    const masked = (this.header[1] & 0x80) !== 0;
    const lengthCode = this.header[1] & 0x7f;
    let offset = 2;
    let payloadLength = lengthCode;
    if (lengthCode === 126) {
      payloadLength = this.header.readUInt16BE(2);
      offset = 4;
    } else if (lengthCode === 127) {
      payloadLength = this.header.readUInt32BE(2) * 2 ** 32 + this.header.readUInt32BE(6);
      offset = 10;
    }
    this.inData = opcode <= LAST_DATA_OPCODE;
    if (this.inData) {
      this.dataFrames++;
      if ((this.header[0] & 0x80) !== 0) this.messages++;
    }
    this.inClose = opcode === OPCODE_CLOSE && !this.closeSeen;
    if (this.inClose) {
      this.closeSeen = true;
      this.closeMask = masked ? Buffer.from(this.header.subarray(offset, offset + 4)) : undefined;
      if (payloadLength < 2) {
        this.closeCode = 1005;
        this.inClose = false;
      }
    }
    this.remaining = payloadLength;
    this.headerLength = 0;
    this.headerNeeded = 2;
  }

  private collectCloseCode(chunk: Buffer, start: number, n: number): void {
    for (let k = 0; k < n && this.closeCodeBytes.length < 2; k++) {
      const index = this.closeCodeBytes.length;
      this.closeCodeBytes.push(chunk[start + k] ^ (this.closeMask ? this.closeMask[index] : 0));
    }
    if (this.closeCodeBytes.length === 2) {
      this.closeCode = (this.closeCodeBytes[0] << 8) | this.closeCodeBytes[1];
      this.inClose = false;
    }
  }
}

/**
 * A complete close frame with `code` and `reason` (at most 123 bytes): masked with a random key when it
 * goes to a server (client-to-server frames must be masked), unmasked when it goes to a viewer.
 */
export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  const text = Buffer.from(reason, 'utf8').subarray(0, 123);
  const payload = Buffer.alloc(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  if (!masked) return Buffer.concat([Buffer.from([0x80 | OPCODE_CLOSE, payload.length]), payload]);
  const mask = randomBytes(4);
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
  return Buffer.concat([Buffer.from([0x80 | OPCODE_CLOSE, 0x80 | payload.length]), mask, payload]);
}
