/**
 * ppserver's log: one line per event on stderr, JSON (one object a line, for collectors) or
 * text (for a terminal), filtered by level. The access log is one `info` line per request.
 * API keys never appear: a request is logged with its key's id.
 */
import type { RequestRecord } from "./request_record.ts";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = typeof LOG_LEVELS[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = typeof LOG_FORMATS[number];

export type Fields = Record<string, unknown>;

export interface Logger {
  log(level: LogLevel, message: string, fields?: Fields): void;
  /** The access log line of a finished request. */
  request(record: RequestRecord): void;
}

export interface LoggerOptions {
  format: LogFormat;
  level: LogLevel;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
}

const encoder = new TextEncoder();

export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const write = options.write ?? ((line: string) => Deno.stderr.writeSync(encoder.encode(line)));
  const emit = (level: LogLevel, message: string, fields: Fields, time: Date) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    if (options.format === "json") {
      write(JSON.stringify({ time: time.toISOString(), level, msg: message, ...fields }) + "\n");
      return;
    }
    const rest = Object.entries(fields)
      .filter(([, value]) => value !== undefined && value !== null)
      .map(([key, value]) => `${key}=${typeof value === "string" ? quoted(value) : String(value)}`)
      .join(" ");
    write(
      `${time.toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${
        rest ? " " + rest : ""
      }\n`,
    );
  };
  return {
    log: (level, message, fields = {}) => emit(level, message, fields, new Date()),
    request(record) {
      const fields = {
        method: record.method,
        route: record.route,
        path: record.path,
        status: record.status,
        bytes_in: record.bytesIn,
        bytes_out: record.bytesOut,
        duration_ms: Math.round(record.durationMs * 1000) / 1000,
        key_id: record.keyId,
        remote: record.remote,
      };
      if (options.format === "json") {
        emit("info", "request", fields, record.time);
        return;
      }
      // Text: the request first, as a person scans it.
      const { method, path, status, ...more } = fields;
      emit("info", `${method} ${path} ${status}`, more, record.time);
    },
  };
}

function quoted(value: string): string {
  return /^[\w./:@+-]*$/.test(value) && value !== "" ? value : JSON.stringify(value);
}
