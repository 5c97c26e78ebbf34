import { describe, expect, it } from 'vitest';
import {
  addSample,
  audioQuality,
  bitrateKbps,
  codecImpairment,
  counterDelta,
  delayImpairment,
  effectiveEquipmentImpairment,
  estimateMos,
  fractionLossFromDeltas,
  mosFromR,
  oneWayDelayMs,
  perSecond,
  rFactor,
  streamQuality,
  videoQuality,
  type RunningMean,
} from '../../src/stats/metrics';

describe('counters and rates', () => {
  it('counterDelta: a decrease is a reset (undefined), never negative', () => {
    expect(counterDelta(10, 25)).toBe(15);
    expect(counterDelta(10, 10)).toBe(0);
    expect(counterDelta(25, 10)).toBeUndefined();
    expect(counterDelta(undefined, 10)).toBeUndefined();
    expect(counterDelta(10, undefined)).toBeUndefined();
  });

  it('bitrateKbps: bytes*8/ms; no rate for dt <= 0', () => {
    expect(bitrateKbps(125_000, 1000)).toBe(1000);
    expect(bitrateKbps(37_500, 1000)).toBe(300);
    expect(bitrateKbps(37_500, 0)).toBeUndefined();
    expect(bitrateKbps(37_500, -5)).toBeUndefined();
    expect(bitrateKbps(37_500, Number.NaN)).toBeUndefined();
    expect(bitrateKbps(undefined, 1000)).toBeUndefined();
  });

  it('perSecond', () => {
    expect(perSecond(50, 1000)).toBe(50);
    expect(perSecond(50, 500)).toBe(100);
    expect(perSecond(50, 0)).toBeUndefined();
  });

  it('fractionLossFromDeltas', () => {
    expect(fractionLossFromDeltas(2, 98)).toBeCloseTo(0.02);
    expect(fractionLossFromDeltas(0, 100)).toBe(0);
    expect(fractionLossFromDeltas(-3, 100)).toBe(0); // duplicates lower packetsLost
    expect(fractionLossFromDeltas(0, 0)).toBeUndefined(); // nothing expected
    expect(fractionLossFromDeltas(5, undefined)).toBeUndefined();
    expect(fractionLossFromDeltas(10, 0)).toBe(1);
  });

  it('addSample: running mean in O(1)', () => {
    const m: RunningMean = { count: 0, mean: 0 };
    expect(addSample(m, undefined)).toBeUndefined();
    expect(addSample(m, 10)).toBe(10);
    expect(addSample(m, 20)).toBe(15);
    expect(addSample(m, undefined)).toBe(15);
    expect(addSample(m, Number.NaN)).toBe(15);
    for (let i = 0; i < 1000; i++) addSample(m, 30);
    expect(m.mean).toBeCloseTo((10 + 20 + 30 * 1000) / 1002, 9);
  });
});

describe('E-model', () => {
  it('MOS from R: G.107 formula and bounds', () => {
    expect(mosFromR(0)).toBe(1);
    expect(mosFromR(-10)).toBe(1);
    expect(mosFromR(100)).toBe(4.5);
    expect(mosFromR(93.2)).toBeCloseTo(1 + 0.035 * 93.2 + 7e-6 * 93.2 * 33.2 * 6.8, 10);
    expect(mosFromR(93.2)).toBeCloseTo(4.41, 2);
    expect(mosFromR(80)).toBeCloseTo(4.02, 2);
    expect(mosFromR(50)).toBeCloseTo(2.58, 2);
  });

  it('Id: 0.024 d below 177.3 ms, +0.11 (d - 177.3) above', () => {
    expect(delayImpairment(0)).toBe(0);
    expect(delayImpairment(100)).toBeCloseTo(2.4);
    expect(delayImpairment(277.3)).toBeCloseTo(0.024 * 277.3 + 11);
  });

  it('Ie,eff: random loss with Bpl; Opus uses G.711+PLC values', () => {
    expect(codecImpairment('audio/opus')).toEqual({ ie: 0, bpl: 25.1 });
    expect(codecImpairment('audio/G729')).toEqual({ ie: 11, bpl: 19 });
    expect(codecImpairment(undefined)).toEqual({ ie: 0, bpl: 25.1 });
    expect(effectiveEquipmentImpairment(0, { ie: 0, bpl: 25.1 })).toBe(0);
    expect(effectiveEquipmentImpairment(5, { ie: 0, bpl: 25.1 })).toBeCloseTo((95 * 5) / 30.1);
    expect(effectiveEquipmentImpairment(500, { ie: 0, bpl: 25.1 })).toBeCloseTo((95 * 100) / 125.1);
  });

  it('one-way delay: rtt/2 + jitter buffer (measured, else 2 x jitter) + 20 ms', () => {
    expect(oneWayDelayMs({ rttMs: 100, jitterBufferMs: 40 })).toBe(110);
    expect(oneWayDelayMs({ rttMs: 100, jitterMs: 15 })).toBe(100);
    expect(oneWayDelayMs({})).toBe(20);
  });

  it('R and MOS for typical conditions', () => {
    const clean = estimateMos({ lossPercentage: 0, rttMs: 20, jitterMs: 2 });
    expect(clean.r).toBeCloseTo(93.2 - 0.024 * (10 + 4 + 20), 6);
    expect(clean.mos).toBeGreaterThan(4.3);
    const lossy = estimateMos({ lossPercentage: 5, rttMs: 200, jitterMs: 30 });
    expect(lossy.mos).toBeLessThan(clean.mos);
    expect(lossy.mos).toBeGreaterThan(1);
    const awful = rFactor({ lossPercentage: 50, rttMs: 1500 });
    expect(awful).toBe(0);
    expect(mosFromR(awful)).toBe(1);
  });
});

describe('quality thresholds', () => {
  it('audio: G.107 satisfaction bands of R', () => {
    expect(audioQuality(93)).toBe('excellent');
    expect(audioQuality(90)).toBe('excellent');
    expect(audioQuality(85)).toBe('good');
    expect(audioQuality(75)).toBe('fair');
    expect(audioQuality(65)).toBe('poor');
    expect(audioQuality(40)).toBe('bad');
  });

  it('video: the worse of loss and RTT ratings', () => {
    expect(videoQuality(0, 50)).toBe('excellent');
    expect(videoQuality(0.015, 50)).toBe('good');
    expect(videoQuality(0, 400)).toBe('fair');
    expect(videoQuality(0.08, 100)).toBe('poor');
    expect(videoQuality(0.2, undefined)).toBe('bad');
    expect(videoQuality(undefined, 800)).toBe('bad');
    expect(videoQuality(undefined, undefined)).toBeUndefined();
  });

  it('streamQuality: audio needs R', () => {
    expect(streamQuality('audio', { fractionLoss: 0, rttMs: 10 })).toBeUndefined();
    expect(streamQuality('audio', { r: 91 })).toBe('excellent');
    expect(streamQuality('video', { fractionLoss: 0.03 })).toBe('fair');
  });
});
