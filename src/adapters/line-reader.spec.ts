import { PassThrough } from 'stream';
import { waitFor } from '../../test/support/wait';
import { LineCutter, MAX_LINE_BYTES, readLines, throttleInput } from './line-reader';

describe('LineCutter', () => {
  const cutter = (maxBytes?: number) => {
    const lines: string[] = [];
    return { lines, cutter: new LineCutter((line) => void lines.push(line), maxBytes) };
  };

  it('splits on \\n and \\r\\n, across chunks, and gives a last line without a newline at the end', () => {
    const { lines, cutter: c } = cutter();
    c.write(Buffer.from('one\r\ntw'));
    c.write(Buffer.from('o\n\nthree\rstill three\nfo'));
    expect(lines).toEqual(['one', 'two', '', 'three\rstill three']);
    c.write(Buffer.from('ur'));
    c.end();
    expect(lines).toEqual(['one', 'two', '', 'three\rstill three', 'four']);
  });

  it('keeps the start of a longer line, says it was cut, and drops the rest of it until its newline', () => {
    const { lines, cutter: c } = cutter(8);
    c.write(Buffer.from('0123456'));
    c.write(Buffer.from('789abcdef'));
    c.write(Buffer.from('ghij'.repeat(1000)));
    c.write(Buffer.from('klm\nnext\n12345678\n123456789'));
    c.end();
    expect(lines).toEqual(['01234567 [line cut at 8 bytes]', 'next', '12345678', '12345678 [line cut at 8 bytes]']);
  });

  it('reads a stream to its end; the default cut is 16 KiB', () => {
    const lines: string[] = [];
    const input = new PassThrough();
    readLines(input, (line) => void lines.push(line));
    input.write(Buffer.alloc(100_000, 'A'));
    input.end('\nlast');
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(lines).toEqual([`${'A'.repeat(MAX_LINE_BYTES)} [line cut at ${MAX_LINE_BYTES} bytes]`, 'last']);
        resolve();
      }),
    );
  });
});

describe('throttleInput', () => {
  it('pauses a stream past its allowance per second, and resumes it once the allowance has caught up', async () => {
    const input = new PassThrough();
    const read: number[] = [];
    throttleInput(input, 10_000);
    input.on('data', (chunk: Buffer) => read.push(chunk.length));
    input.write(Buffer.alloc(6_000));
    await new Promise((resolve) => setImmediate(resolve));
    expect(input.isPaused()).toBe(false); // within a second's worth
    input.write(Buffer.alloc(9_000)); // 5,000 over: half a second to catch up
    await new Promise((resolve) => setImmediate(resolve));
    expect(input.isPaused()).toBe(true);
    input.write(Buffer.alloc(100));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(read).toEqual([6_000, 9_000]); // the next waits
    await waitFor(() => !input.isPaused(), 2000, { description: 'the stream to be resumed' });
    await waitFor(() => read.length === 3, 1000, { description: 'the held bytes to be read' });
    input.destroy();
  });
});
