// Shared by the facade's tests (facade.test.ts, compat.test.ts).
import { vi } from 'vitest';
import { CallStats } from '../../src/callstats/CallStats';
import type { FabricEventRecord, Logger } from '../../src/types';
import { FakePeerConnection } from '../helpers/fakePeerConnection';

/** A logger that keeps its lines (`<level> <message>`) instead of printing them. */
export function quietLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { lines, debug: () => undefined, info: log('info'), warn: log('warn'), error: log('error') };
}

export function init(cs: CallStats, logger = quietLogger(), extra: Record<string, unknown> = {}) {
  const initCb = vi.fn();
  const result = cs.initialize('app-1', 'secret', 'alice', initCb, undefined, { logger, ...extra });
  return { result, initCb, logger };
}

/** An initialized CallStats and a fake pc; with `fabric`, the pc is already bob's multiplex fabric in 'conf'. */
export function initWithPc(fabric: boolean): { cs: CallStats; pc: FakePeerConnection } {
  const cs = new CallStats();
  init(cs);
  const pc = new FakePeerConnection();
  if (fabric) cs.addNewFabric(pc, 'bob', 'multiplex', 'conf');
  return { cs, pc };
}

/** The fabric events the monitor emits from now on. */
export function fabricEvents(cs: CallStats): FabricEventRecord[] {
  const events: FabricEventRecord[] = [];
  cs.monitor?.on('fabricEvent', (e) => events.push(e));
  return events;
}
