import { FakeSchedulingFiles } from '../../test/fakes/scheduling-files.fake';
import { claimInstance } from './cgroup-claim';

const serviceGroup = (instance: number) => `/cg/cpu/sc-spawner-1-${instance}/service`;

describe('claimInstance', () => {
  it('takes the first number when no group of that name exists, and when there is no cgroup at all', () => {
    const files = new FakeSchedulingFiles({}, ['/cg/cpu']);
    expect(claimInstance(files, 1, serviceGroup)).toBe(1);
    expect(claimInstance(files, 3, () => undefined)).toBe(3);
  });

  it('passes over a group a live service holds (pid 1 of another container: the kernel refuses to remove it)', () => {
    const files = new FakeSchedulingFiles({}, ['/cg/cpu']);
    for (const instance of [1, 2]) files.dirs.add(serviceGroup(instance));
    files.failing.set(serviceGroup(1), 'EBUSY');
    expect(claimInstance(files, 1, serviceGroup)).toBe(2);
    // The other's group is untouched; the empty one of a dead service with this pid is taken over.
    expect(files.dirs.has(serviceGroup(1))).toBe(true);
    expect(files.dirs.has(serviceGroup(2))).toBe(false);
  });

  it('takes a group it may not remove (EACCES) as it would have before: setting the group up says why it fails', () => {
    const files = new FakeSchedulingFiles({}, ['/cg/cpu']);
    files.dirs.add(serviceGroup(1));
    files.failing.set(serviceGroup(1), 'EACCES');
    expect(claimInstance(files, 1, serviceGroup)).toBe(1);
  });

  it('stops looking after 64 numbers', () => {
    const files = new FakeSchedulingFiles({}, ['/cg/cpu']);
    for (let instance = 1; instance <= 100; instance++) files.failing.set(serviceGroup(instance), 'EBUSY');
    expect(claimInstance(files, 1, serviceGroup)).toBe(65);
  });
});
