import { printable, printableLine } from './printable';

describe('printableLine (text/plain logs)', () => {
  it('writes control characters as \\xNN, so a server cannot move, recolour or overwrite the terminal; keeps tabs', () => {
    expect(printableLine('\x1b[1A\x1b[2Kforged\rline\tand tab\x7f\x00')).toBe(
      '\\x1b[1A\\x1b[2Kforged\\x0dline\tand tab\\x7f\\x00',
    );
    expect(printableLine('plain ünïcödé \u009b2J')).toBe('plain ünïcödé \\x9b2J'); // C1's CSI too
  });

  it('writes line separators and bidirectional controls as \\uNNNN: a browser cannot break or reorder the line', () => {
    expect(printableLine('a\u2028forged\u2029b')).toBe('a\\u2028forged\\u2029b');
    expect(printableLine('file \u202egpj.exe \u2066x\u2069 \u200e\u200f\u061c')).toBe(
      'file \\u202egpj.exe \\u2066x\\u2069 \\u200e\\u200f\\u061c',
    );
    expect(printableLine('\u202a\u202b\u202c\u202d\u2067\u2068')).toBe('\\u202a\\u202b\\u202c\\u202d\\u2067\\u2068');
    // Neighbours that only look alike stay: en dash, zero-width joiner, narrow no-break space, Arabic, Hebrew.
    expect(printableLine('\u2013 \u200d \u202f \u0645\u0631 \u05e9\u05dc')).toBe(
      '\u2013 \u200d \u202f \u0645\u0631 \u05e9\u05dc',
    );
  });
});

describe('printable (log fields)', () => {
  it('writes C0 (but tab and newline), DEL and C1 as \\xNN', () => {
    expect(printable('a\u009b2J\u0085b\x1b[0m\tc\nd\x7f')).toBe('a\\x9b2J\\x85b\\x1b[0m\tc\nd\\x7f');
    expect(printable('a\u2028b\u202ec\nd')).toBe('a\\u2028b\\u202ec\nd');
  });
});
