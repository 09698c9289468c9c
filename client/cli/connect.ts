/**
 * The one connect step of the commands that talk to a server: check that there is an API
 * key, build the `Transport` (pool, retries), make sure the server answers
 * (`GET /health`), learn which API it speaks (`GET /v1`) and check the key with one
 * authenticated request, before any work: a refused key stops the command at once
 * (exit 3) whatever the scan cache holds, saying why (unknown, revoked, too small a
 * scope). The commands then use the classic client or the /v1 client of the `Connection`.
 */
import { EMPTY_DIGEST } from "../../lib/digest.ts";
import { AppError } from "../../lib/errors.ts";
import { type Scope, scopeAllows } from "../../lib/models/api_key.ts";
import { ClassicClient } from "../http/classic_client.ts";
import {
  type Capabilities,
  discover,
  supportsBatchedScan,
  V1Client,
  whoami,
} from "../http/v1_client.ts";
import { formatSpan } from "../http/outage.ts";
import { type RetryEvent, serverDetailOf, Transport } from "../http/transport.ts";
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
  config: Pick<ClientConfig, "url" | "apiKey" | "jobs" | "retries"> & { retryForMs?: number };
  /** What the command does with its key: "write" (scan) or "read" (get). */
  scope: Scope;
  /** The command's name, for the message about a key whose scope is too small. */
  command: string;
  /** Replaces the pooled fetch (tests). */
  fetch?: typeof fetch;
  signal: AbortSignal;
  onRetry?: (event: RetryEvent) => void;
  /** Where the lines about an unreachable server go (paused, resumed). */
  notice?: (line: string) => void;
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
    retryForMs: config.retryForMs ?? 0,
    onPause: ({ reason, until }) =>
      options.notice?.(
        `the server at ${config.url} cannot be used (${reason}); all work paused, trying ` +
          `again until ${until.toTimeString().slice(0, 8)} (--retry-for ${
            formatSpan(config.retryForMs ?? 0)
          })`,
      ),
    onResume: ({ pausedMs }) =>
      options.notice?.(
        `the server at ${config.url} answers again after ${formatSpan(pausedMs)}; resuming`,
      ),
  });
  const classic = new ClassicClient(transport);
  try {
    await classic.health(signal);
    const capabilities = await discover(transport, signal);
    await checkApiKey({ ...options, transport, classic, capabilities });
    const v1 = capabilities !== null && supportsBatchedScan(capabilities)
      ? new V1Client(transport, capabilities)
      : null;
    return { transport, classic, v1, [Symbol.dispose]: () => transport[Symbol.dispose]() };
  } catch (error) {
    transport[Symbol.dispose]();
    if (signal.aborted) throw signal.reason;
    if (isRefusal(error)) throw error;
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

function isRefusal(error: unknown): error is AppError {
  return error instanceof AppError && (error.code === "unauthorized" || error.code === "forbidden");
}

/**
 * One authenticated, read-only request: `GET /v1/whoami` where the server has it (it says
 * why a key is refused, and the key's scope is compared with what the command needs),
 * else `GET /get_file/{digest}` (any answer but 401/403 means the key is accepted).
 */
async function checkApiKey(
  options: ConnectOptions & {
    transport: Transport;
    classic: ClassicClient;
    capabilities: Capabilities | null;
  },
): Promise<void> {
  const { config, signal, scope } = options;
  try {
    if (options.capabilities?.features.includes("whoami")) {
      const key = await whoami(options.transport, signal);
      if (!scopeAllows(key.scope, scope)) {
        throw new AppError(
          "forbidden",
          `The API key "${key.name}" has scope "${key.scope}"; "ppclient ${options.command}" ` +
            `needs a "${scope}" key`,
        );
      }
      return;
    }
    await options.classic.getFile(EMPTY_DIGEST, signal);
  } catch (error) {
    if (!isRefusal(error) || serverDetailOf(error) === null) throw error;
    throw new AppError(
      error.code,
      `The server at "${config.url}" refused the API key: ${serverDetailOf(error)}`,
      { cause: error },
    );
  }
}
