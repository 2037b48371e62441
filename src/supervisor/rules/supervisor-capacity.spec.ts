import { type AdmissionState, refusalForEveryRequest } from './supervisor-capacity';
import { NoCapacityError } from './supervisor.errors';

describe('refusalForEveryRequest (what the door of POST /spawn may answer without reading the request)', () => {
  const open: AdmissionState = {
    shuttingDown: false,
    draining: false,
    hasFreeSlot: true,
    unclaimedWarm: 0,
    maxSpawns: 4,
  };

  it('lets requests in while a slot is free, or while a warm server could be handed out or retired', () => {
    expect(refusalForEveryRequest(open)).toBeUndefined();
    expect(refusalForEveryRequest({ ...open, hasFreeSlot: false, unclaimedWarm: 1 })).toBeUndefined();
  });

  it('refuses every request when every slot is held and no warm server is left, as the route would', () => {
    const refusal = refusalForEveryRequest({ ...open, hasFreeSlot: false });
    expect(refusal).toBeInstanceOf(NoCapacityError);
    expect(refusal).toMatchObject({ reason: 'slots', message: 'all 4 spawn slots are in use' });
  });

  it('refuses every request while draining or shutting down, whatever is free', () => {
    expect(refusalForEveryRequest({ ...open, draining: true, unclaimedWarm: 2 })?.reason).toBe('draining');
    expect(refusalForEveryRequest({ ...open, shuttingDown: true, draining: true })?.reason).toBe('shutting_down');
  });
});
