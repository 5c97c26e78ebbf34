import { describe, expect, it } from 'vitest';
import { StreamMappings } from '../../src/stats/mapping';

describe('StreamMappings', () => {
  it('SSRC beats mid beats trackId', () => {
    const m = new StreamMappings();
    m.set({ trackId: 't1' }, { userID: 'by-track' });
    expect(m.resolve({ ssrc: 1, mid: '0', trackId: 't1' })?.userID).toBe('by-track');
    m.set({ mid: '0' }, { userID: 'by-mid' });
    expect(m.resolve({ ssrc: 1, mid: '0', trackId: 't1' })?.userID).toBe('by-mid');
    m.set({ ssrc: 1 }, { userID: 'by-ssrc' });
    expect(m.resolve({ ssrc: 1, mid: '0', trackId: 't1' })?.userID).toBe('by-ssrc');
    expect(m.resolve({ ssrc: 2, mid: '0', trackId: 't1' })?.userID).toBe('by-mid');
    expect(m.resolve({ ssrc: 2, mid: '9', trackId: 't1' })?.userID).toBe('by-track');
    expect(m.resolve({ ssrc: 2, mid: '9', trackId: 't9' })).toBeUndefined();
    expect(m.resolve({ ssrc: 2 })).toBeUndefined();
  });

  it('SSRCs match as numbers or strings', () => {
    const m = new StreamMappings();
    m.set({ ssrc: '3735928559' }, { userID: 'a' });
    expect(m.resolve({ ssrc: 3735928559 })?.userID).toBe('a');
    m.set({ ssrc: 42 }, { userID: 'b' });
    expect(m.resolve({ ssrc: '42' })?.userID).toBe('b');
    expect(m.resolve({ ssrc: '042' })?.userID).toBe('b');
  });

  it('a later mapping for the same selector replaces the earlier one; delete and clear work', () => {
    const m = new StreamMappings();
    m.set({ mid: '1' }, { userID: 'a', usageLabel: 'main' });
    m.set({ mid: '1' }, { userID: 'b' });
    expect(m.resolve({ ssrc: 5, mid: '1' })).toEqual({ userID: 'b' });
    expect(m.size).toBe(1);
    expect(m.delete({ mid: '1' })).toBe(true);
    expect(m.resolve({ ssrc: 5, mid: '1' })).toBeUndefined();
    m.set({ ssrc: 1 }, { userID: 'x' });
    m.set({ trackId: 't' }, { userID: 'y' });
    m.clear();
    expect(m.size).toBe(0);
  });

  it('keeps its own copy of the mapping', () => {
    const m = new StreamMappings();
    const mapping = { userID: 'a', usageLabel: 'cam' };
    m.set({ mid: '0' }, mapping);
    mapping.userID = 'changed';
    expect(m.resolve({ ssrc: 1, mid: '0' })?.userID).toBe('a');
  });

  it('refuses malformed selectors and mappings without a userID', () => {
    const m = new StreamMappings();
    expect(m.set({ ssrc: -1 }, { userID: 'a' })).toBe(false);
    expect(m.set({ ssrc: 'abc' }, { userID: 'a' })).toBe(false);
    expect(m.set({} as never, { userID: 'a' })).toBe(false);
    expect(m.set(null as never, { userID: 'a' })).toBe(false);
    expect(m.set({ mid: '0' }, {} as never)).toBe(false);
    expect(m.size).toBe(0);
  });
});
