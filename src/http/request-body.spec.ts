import { bodyProblem, charsetOtherThanUtf8, MAX_BODY_DEPTH, MAX_BODY_KEYS, MAX_BODY_VALUES } from './request-body';

describe('bodyProblem', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 1; i < depth; i++) value = i % 2 ? [value] : { a: value };
    return { a: value };
  };

  it.each([{}, { a: 1, b: [1, { c: 'x' }] }, { params: { modelSearchDirectories: ['/a'] } }])('accepts %j', (body) => {
    expect(bodyProblem(body)).toBeUndefined();
  });

  it.each([
    [[], 'an array'],
    [null, 'null'],
    [3, 'a number'],
    ['s', 'a string'],
    [false, 'a boolean'],
  ])('refuses the top level %j', (body, what) => {
    expect(bodyProblem(body)).toBe(`must be a JSON object ({...}), got ${what}`);
  });

  it(`accepts ${MAX_BODY_DEPTH} levels, refuses ${MAX_BODY_DEPTH + 1}`, () => {
    expect(bodyProblem(nested(MAX_BODY_DEPTH))).toBeUndefined();
    expect(bodyProblem(nested(MAX_BODY_DEPTH + 1))).toMatch(/^is nested deeper than 32 levels \(at /);
  });

  it('walks a 100,000-level body without recursion (no stack overflow)', () => {
    const text = '{"a":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
    expect(bodyProblem(JSON.parse(text))).toMatch(/nested deeper/);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the key %s anywhere, naming where', (key) => {
    expect(bodyProblem(JSON.parse(`{"${key}":1}`))).toBe(`may not contain the key "${key}" (at ${key})`);
    expect(bodyProblem(JSON.parse(`{"params":{"list":[{"${key}":{}}]}}`))).toBe(
      `may not contain the key "${key}" (at params.list[0].${key})`,
    );
  });
});

describe('bodyProblem: keys in one object', () => {
  const wide = (count: number): Record<string, number> =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [String(i), 0]));

  it(`accepts ${MAX_BODY_KEYS} keys in an object, anywhere (the HOOPS params too)`, () => {
    expect(bodyProblem(wide(MAX_BODY_KEYS))).toBeUndefined();
    expect(bodyProblem({ class: 'csr_session', params: wide(MAX_BODY_KEYS) })).toBeUndefined();
  });

  it(`refuses ${MAX_BODY_KEYS + 1} and more, naming the limit, the count and where`, () => {
    expect(bodyProblem(wide(7000))).toBe('may have at most 100 keys in an object, got 7000 (at the top level)');
    expect(bodyProblem({ params: wide(MAX_BODY_KEYS + 1) })).toBe(
      'may have at most 100 keys in an object, got 101 (at params)',
    );
    expect(bodyProblem({ params: { list: [1, wide(500)] } })).toBe(
      'may have at most 100 keys in an object, got 500 (at params.list[1])',
    );
  });

  it('counts no array as an object: a list longer than 100 is for the route to judge', () => {
    expect(
      bodyProblem({ params: { modelSearchDirectories: Array.from({ length: 500 }, () => '/m') } }),
    ).toBeUndefined();
  });
});

describe('bodyProblem: values in all', () => {
  it(`accepts ${MAX_BODY_VALUES} values, however they are laid out`, () => {
    expect(bodyProblem({ list: Array.from({ length: MAX_BODY_VALUES - 1 }, () => 0) })).toBeUndefined();
    const rows = Array.from({ length: 99 }, () => ({ a: 1, b: 2, c: [3, 4, 5, 6, 7, 8] }));
    expect(bodyProblem({ rows })).toBeUndefined(); // 1 + 99 + 99 x 9 = 991
  });

  it('refuses more, many small objects or a long list alike, before anything is copied or validated', () => {
    const problem = `may hold at most ${MAX_BODY_VALUES} values in all`;
    expect(bodyProblem({ a: Array.from({ length: 20_000 }, () => ({})) })).toBe(`${problem} (at a)`);
    expect(bodyProblem({ a: Array.from({ length: 30_000 }, () => 0) })).toBe(`${problem} (at a)`);
    expect(bodyProblem({ a: Array.from({ length: 400 }, () => [0, 0]) })).toMatch(
      new RegExp(`^${problem} \\(at a\\[\\d+\\]\\)$`),
    );
  });
});

describe('charsetOtherThanUtf8', () => {
  it.each([
    undefined,
    'application/json',
    'application/json; charset=utf-8',
    'application/json;charset=UTF-8',
    'application/json; charset="utf-8"',
    'application/json; CHARSET = Utf-8 ',
    'text/plain;charset=UTF-8',
    'application/json; foo=bar',
  ])('lets %j through', (header) => {
    expect(charsetOtherThanUtf8(header)).toBeUndefined();
  });

  it.each([
    ['application/json; charset=utf-16', 'utf-16'],
    ['application/json; charset=UTF-16LE', 'UTF-16LE'],
    ['application/json; charset=utf-32be', 'utf-32be'],
    ['application/json; charset=utf-7', 'utf-7'],
    ['application/json; charset=us-ascii', 'us-ascii'],
    ['application/json; charset=utf8', 'utf8'],
    ['application/json; charset=foo', 'foo'],
    ['application/json; charset="utf-16"', 'utf-16'],
    ['application/json; charset=', ''],
    ['text/plain; charset=utf-16', 'utf-16'],
    // body-parser reads the first; every one must be UTF-8 here.
    ['application/json; charset=utf-16; charset=utf-8', 'utf-16'],
    ['application/json; charset=utf-8; charset=utf-16', 'utf-16'],
    ['application/json; x="a"; charset=utf-16', 'utf-16'],
  ])('refuses %j, naming %j', (header, charset) => {
    expect(charsetOtherThanUtf8(header)).toBe(charset);
  });
});
