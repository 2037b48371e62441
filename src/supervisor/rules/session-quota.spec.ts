import { keyLabel, overQuota, quotaFor } from './session-quota';

const QUOTAS = { perKey: new Map([['alice', 2]]), others: 1 };

describe('session quotas (pure)', () => {
  it("a key's own cap, else *'s, else none", () => {
    expect(quotaFor(QUOTAS, { key: 'alice', bucket: 'key:alice' })).toBe(2);
    expect(quotaFor(QUOTAS, { key: 'bob', bucket: 'key:bob' })).toBe(1);
    expect(quotaFor(QUOTAS, { bucket: 'addr:10.0.0.1' })).toBe(1);
    expect(quotaFor({ perKey: new Map([['alice', 2]]) }, { key: 'bob', bucket: 'key:bob' })).toBeUndefined();
    expect(quotaFor(undefined, { key: 'alice', bucket: 'key:alice' })).toBeUndefined();
  });

  it('refuses the session that would go beyond the cap, with the cap', () => {
    const alice = { key: 'alice', bucket: 'key:alice' };
    expect(overQuota(QUOTAS, alice, 1)).toBeUndefined();
    expect(overQuota(QUOTAS, alice, 2)).toBe(2);
    expect(overQuota(undefined, alice, 100)).toBeUndefined();
  });

  it('labels the metric with the key name, never the key; anonymous callers as anonymous', () => {
    expect(keyLabel({ key: 'alice', bucket: 'key:alice' })).toBe('alice');
    expect(keyLabel({ bucket: 'addr:10.0.0.1' })).toBe('anonymous');
  });
});
