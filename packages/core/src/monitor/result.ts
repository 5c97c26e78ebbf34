import type { Result } from '../types';

export const SUCCESS: Result = Object.freeze({ status: 'success' }) as Result;

export function failure(message: string): Result {
  return { status: 'failure', message };
}
