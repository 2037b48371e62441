import { bodyProblem, MAX_BODY_DEPTH } from './request-body';

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
