import { LineBuffer, type LogLine } from './line-buffer';

describe('LineBuffer', () => {
  const line = (text: string, stream: LogLine['stream'] = 'stdout'): LogLine => ({ at: 't', stream, line: text });

  it('keeps the last lines, by count', () => {
    const buffer = new LineBuffer(3);
    for (const text of ['a', 'b', 'c', 'd']) buffer.push(line(text));
    expect(buffer.all().map((l) => l.line)).toEqual(['b', 'c', 'd']);
    buffer.push(line('e', 'stderr'));
    expect(buffer.last(2, 'stdout').map((l) => l.line)).toEqual(['c', 'd']);
  });

  it('and by characters: long lines push the oldest out; the newest is kept whatever its length', () => {
    const buffer = new LineBuffer(200, 10);
    for (const text of ['1234', '5678', 'abc']) buffer.push(line(text));
    expect(buffer.all().map((l) => l.line)).toEqual(['5678', 'abc']);
    buffer.push(line('x'.repeat(25)));
    expect(buffer.all().map((l) => l.line)).toEqual(['x'.repeat(25)]);
    buffer.push(line('y'));
    expect(buffer.all().map((l) => l.line)).toEqual(['y']);
  });
});
