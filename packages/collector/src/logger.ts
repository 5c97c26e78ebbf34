// A small structured logger. Tests pass their own (see createMemoryLogger) to capture lines.
import type { LogFields, LogLevel, LogRecord, Logger } from './types';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return '';
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const s = String(v);
    out += ` ${k}=${/[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s}`;
  }
  return out;
}

/** Lines like `2025-01-01T00:00:00.000Z WARN ingest refused code=invalid_batch ...` on stderr/stdout. */
export function createConsoleLogger(minLevel: LogLevel = 'info'): Logger {
  const write = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (ORDER[level] < ORDER[minLevel]) return;
    const line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}${formatFields(fields)}\n`;
    (level === 'warn' || level === 'error' ? process.stderr : process.stdout).write(line);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** A logger that keeps every record in `records` (for tests). */
export function createMemoryLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const write = (level: LogLevel) => (message: string, fields?: LogFields) => {
    records.push({ level, message, fields: { ...fields }, time: Date.now() });
  };
  return { records, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
