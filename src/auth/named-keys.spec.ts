import { ApiKeys, nameKeys } from './api-keys';
import { bearerKey, sessionOwner } from './session-owner';

const ALICE = 'alice-key-0123456789';
const BARE1 = 'bare-key-one-0123456';
const BARE2 = 'bare-key-two-0123456';

describe('named API keys', () => {
  it('splits name=key at the first = when the name and the key qualify; the rest are key-1, key-2...', () => {
    expect(
      nameKeys([BARE1, `alice=${ALICE}`, BARE2, 'bob=short', 'a.b=0123456789abcdefgh', 'x==0123456789abcdefghij']),
    ).toEqual([
      { name: 'key-1', key: BARE1 },
      { name: 'alice', key: ALICE },
      { name: 'key-2', key: BARE2 },
      // The right part is too short to be a key: the whole entry is a bare key.
      { name: 'key-3', key: 'bob=short' },
      { name: 'key-4', key: 'a.b=0123456789abcdefgh' },
      // Split at the first '=': the key part is '=0123456789abcdefghij', a valid key.
      { name: 'x', key: '=0123456789abcdefghij' },
    ]);
    const longName = `${'n'.repeat(33)}=${ALICE}`;
    expect(nameKeys([longName])).toEqual([{ name: 'key-1', key: longName }]);
  });

  it('a named key matches by its key part only, and tells its name', () => {
    const keys = new ApiKeys([`alice=${ALICE}`, BARE1]);
    expect(keys.matches(ALICE)).toBe(true);
    expect(keys.matches(`alice=${ALICE}`)).toBe(false);
    expect(keys.nameOf(ALICE)).toBe('alice');
    expect(keys.nameOf(BARE1)).toBe('key-1');
    expect(keys.nameOf('unknown-key-0123456789')).toBeUndefined();
    expect(keys.redact(`Bearer ${ALICE}`)).toBe('Bearer ***');
  });

  it('a session owner is the key name presented, else the anonymous client address', () => {
    const keys = new ApiKeys([`alice=${ALICE}`]);
    expect(sessionOwner(keys, bearerKey(`Bearer ${ALICE}`), '10.0.0.1')).toEqual({ key: 'alice', bucket: 'key:alice' });
    expect(sessionOwner(keys, bearerKey('Bearer wrong-key-0123456789'), '10.0.0.1')).toEqual({
      bucket: 'addr:10.0.0.1',
    });
    expect(sessionOwner(keys, bearerKey(undefined), undefined)).toEqual({ bucket: 'addr:unknown' });
    expect(bearerKey(['a', 'b'])).toBeUndefined();
  });
});
