import { printable, printableLine } from './printable';

describe('printableLine (text/plain logs)', () => {
  it('writes control characters as \\xNN, so a server cannot move, recolour or overwrite the terminal; keeps tabs', () => {
    expect(printableLine('\x1b[1A\x1b[2Kforged\rline\tand tab\x7f\x00')).toBe(
      '\\x1b[1A\\x1b[2Kforged\\x0dline\tand tab\\x7f\\x00',
    );
    expect(printableLine('plain ünïcödé \u009b2J')).toBe('plain ünïcödé \\x9b2J'); // C1's CSI too
  });
});

describe('printable (log fields)', () => {
  it('writes C0 (but tab and newline), DEL and C1 as \\xNN', () => {
    expect(printable('a\u009b2J\u0085b\x1b[0m\tc\nd\x7f')).toBe('a\\x9b2J\\x85b\\x1b[0m\tc\nd\\x7f');
  });
});
