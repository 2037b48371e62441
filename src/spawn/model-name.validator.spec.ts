import { validateSync } from 'class-validator';
import { IsModelName, isPlainModelName, MODEL_NAME_MAX_LENGTH, MODEL_NAME_RULE } from './model-name.validator';
import { SESSION_TOKEN_PATTERN } from './session-token.validator';

describe('isPlainModelName', () => {
  it.each([
    'microengine',
    'bnc.scz',
    'sub/dir/model.scs',
    'Model (v2) final+1',
    'a-b_c.d',
    '...', // odd, but a legal file name and not a parent reference
    'x'.repeat(MODEL_NAME_MAX_LENGTH),
    'scsim:never-ready',
    'scsim:exit-before-ready:4',
    'scsim:slow-ready:1500',
    // ':' is an ordinary character: the simulator's fault names are plain names to this rule.
    'a:b',
    'scsim:',
    'scsim:Never-Ready',
    'scsim:exit:4:5',
    'scsim:../x', // a folder named 'scsim:..', not a parent reference
  ])('accepts %j', (name) => {
    expect(isPlainModelName(name)).toBe(true);
  });

  it.each([
    ['', 'empty'],
    ['x'.repeat(MODEL_NAME_MAX_LENGTH + 1), 'too long'],
    ['../x', 'parent reference first'],
    ['a/../b', 'parent reference inside'],
    ['a/..', 'parent reference last'],
    ['./a', 'current-folder reference'],
    ['a/./b', 'current-folder reference inside'],
    ['/abs', 'absolute'],
    ['/etc/passwd', 'absolute'],
    ['-rf', 'looks like an option'],
    ['--license=x', 'looks like an option'],
    ['a//b', 'empty part'],
    ['a/', 'trailing slash'],
    [' a', 'leading space'],
    ['a /b', 'part ending in a space'],
    ['a\\b', 'backslash'],
    ['a;b', 'semicolon'],
    ['a$b', 'dollar'],
    ['a*b', 'glob'],
    ['a\nb', 'newline'],
    ['a\0b', 'NUL'],
    ['ünïcode', 'non-ASCII'],
    ['~/x', 'tilde'],
  ])('refuses %j (%s)', (name) => {
    expect(isPlainModelName(name)).toBe(false);
  });

  it.each([undefined, null, 42, ['a'], { name: 'a' }])('refuses the non-string %j', (value) => {
    expect(isPlainModelName(value)).toBe(false);
  });

  it('the rule text says what is allowed', () => {
    expect(MODEL_NAME_RULE).toContain(`at most ${MODEL_NAME_MAX_LENGTH} characters`);
    expect(MODEL_NAME_RULE).toContain("no '.' or '..' part");
    expect(MODEL_NAME_RULE).toContain("not starting with '-' or '/'");
  });
});

describe('@IsModelName', () => {
  class Body {
    @IsModelName()
    model: unknown;
  }
  class Custom {
    @IsModelName({ message: 'pick a better model' })
    file: unknown;
  }

  const errorsFor = <T extends object>(cls: new () => T, values: Partial<T>) =>
    validateSync(Object.assign(new cls(), values));

  it('passes a plain name', () => {
    expect(errorsFor(Body, { model: 'sub/microengine' })).toEqual([]);
  });

  it('fails with a message naming the property and the rule', () => {
    const [error] = errorsFor(Body, { model: '../secret' });
    expect(error.property).toBe('model');
    expect(error.constraints).toEqual({ isModelName: `model must be ${MODEL_NAME_RULE}` });
  });

  it('accepts a custom message', () => {
    const [error] = errorsFor(Custom, { file: '/abs' });
    expect(error.constraints).toEqual({ isModelName: 'pick a better model' });
  });
});

describe('SESSION_TOKEN_PATTERN', () => {
  it.each(['abc', 's3cr3t-token', '!~#$%^&*()', 'x'.repeat(300)])('matches %j', (token) => {
    expect(SESSION_TOKEN_PATTERN.test(token)).toBe(true);
  });
  it.each(['', 'a b', 'a\tb', 'a\nb', 'é', 'a\x7fb'])('does not match %j', (token) => {
    expect(SESSION_TOKEN_PATTERN.test(token)).toBe(false);
  });
});
