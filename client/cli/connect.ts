/**
 * The one connect step of the commands that talk to a server: check that there is an API
 * key, build the `Transport` (pool, retries), make sure the server answers
 * (`GET /health`) and learn which API it speaks (`GET /v1`). The commands then use the
 * classic client or the /v1 client of the `Connection`.
 */
import { AppError } from "../../lib/errors.ts";
import { ClassicClient } from "../http/classic_client.ts";
import { discover, supportsBatchedScan, V1Client } from "../http/v1_client.ts";
import { type RetryEvent, Transport } from "../http/transport.ts";
import type { ClientConfig } from "./config.ts";

/** Backoff between retries of one request. */
export const RETRY_BASE_DELAY_MS = 250;
export const RETRY_MAX_DELAY_MS = 8_000;

export interface Connection extends Disposable {
  transport: Transport;
  classic: ClassicClient;
  /** The /v1 client, or null for a server that speaks only the classic API. */
  v1: V1Client | null;
}

export interface ConnectOptions {
  config: Pick<ClientConfig, "url" | "apiKey" | "jobs" | "retries">;
  /** Replaces the pooled fetch (tests). */
  fetch?: typeof fetch;
  signal: AbortSignal;
  onRetry?: (event: RetryEvent) => void;
}

/** The API key, or an `invalid_input` AppError that says where to give one. */
export function requireApiKey(apiKey: string | null): string {
  if (apiKey !== null) return apiKey;
  throw new AppError(
    "invalid_input",
    "No API key: pass --api-key, set PUTPLACE_API_KEY, or add api-key to ppclient.conf",
  );
}

/**
 * Connects to the server of `config`. A failure is an AppError that names the server
 * (an abort rethrows the signal's reason). The caller disposes of the connection.
 */
export async function connect(options: ConnectOptions): Promise<Connection> {
  const { config, signal } = options;
  const transport = new Transport({
    baseUrl: config.url,
    apiKey: requireApiKey(config.apiKey),
    fetch: options.fetch,
    maxConnections: config.jobs,
    retry: {
      retries: config.retries,
      baseDelayMs: RETRY_BASE_DELAY_MS,
      maxDelayMs: RETRY_MAX_DELAY_MS,
    },
    onRetry: options.onRetry,
  });
  const classic = new ClassicClient(transport);
  try {
    await classic.health(signal);
    const capabilities = await discover(transport, signal);
    const v1 = capabilities !== null && supportsBatchedScan(capabilities)
      ? new V1Client(transport, capabilities)
      : null;
    return { transport, classic, v1, [Symbol.dispose]: () => transport[Symbol.dispose]() };
  } catch (error) {
    transport[Symbol.dispose]();
    if (signal.aborted) throw signal.reason;
    if (error instanceof AppError) {
      throw new AppError(
        error.code,
        `Cannot use the server at "${config.url}": ${error.message}`,
        { cause: error, status: error.status },
      );
    }
    throw error;
  }
}
