/**
 * How the MongoDB metadata store classifies driver failures. Driver messages never reach
 * clients: every failure becomes an `AppError` with a safe message, the driver error kept
 * as `cause` for the server log.
 */
import {
  MongoBulkWriteError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from "mongodb";
import { AppError } from "../../errors.ts";

/** E11000: a unique index refused the write. */
export const DUPLICATE_KEY = 11000;

export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/** Node socket error codes that mean the connection went away. */
const NETWORK_CODES = new Set([
  "EPIPE",
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** True when the server cannot be reached (down, network, closed client), not a bad request. */
export function isUnreachable(error: unknown): boolean {
  // Under Deno a write to a socket the server closed can surface as a plain Error.
  if (
    error instanceof Error && !(error instanceof MongoServerError) &&
    (NETWORK_CODES.has(String("code" in error ? error.code : "")) ||
      /socket has been ended/i.test(error.message))
  ) {
    return true;
  }
  return error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoNotConnectedError ||
    (error instanceof Error && error.name === "MongoClientClosedError") ||
    (error instanceof Error && error.name === "AbortError");
}

/** The indexes of the operations of an unordered bulk write that failed with E11000. */
export function duplicateKeyIndexes(error: MongoBulkWriteError): Set<number> | null {
  const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  const indexes = new Set<number>();
  for (const writeError of writeErrors) {
    if (writeError.code !== DUPLICATE_KEY) return null;
    indexes.add(writeError.index);
  }
  return error.err ? null : indexes;
}

/** Any driver failure as an `AppError`; `AppError`s pass through unchanged. */
export function storeFailure(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isUnreachable(error)) {
    return new AppError("unavailable", "Metadata store is unreachable", { cause: error });
  }
  return new AppError("unavailable", "Metadata store failed", { cause: error });
}

/** Runs one store operation; driver failures become `AppError`s without driver detail. */
export async function run<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw storeFailure(error);
  }
}

/** A connection string safe for messages and logs: credentials and options left out. */
export function redactUrl(url: string): string {
  const match = url.match(/^(mongodb(?:\+srv)?:\/\/)(?:[^@/?#]*@)?([^/?#]*)/);
  if (!match) return "(an invalid MongoDB URL)";
  return `${match[1]}${match[2]}`;
}

/** Why connecting failed, in words an operator can act on. */
export function connectFailureReason(error: unknown): string {
  if (
    error instanceof MongoServerError &&
    (error.code === 18 || error.codeName === "AuthenticationFailed")
  ) {
    return "authentication failed (check the user and password in MONGODB_URL)";
  }
  if (error instanceof MongoServerError && error.code === 13) {
    return "the user is not authorized for this database";
  }
  const text = error instanceof Error ? error.message : String(error);
  if (/ECONNREFUSED|connection refused/i.test(text)) return "connection refused";
  if (/ENOTFOUND|getaddrinfo|dns/i.test(text)) return "the host name does not resolve";
  if (/timed out|timeout/i.test(text)) return "no answer in time";
  if (/auth/i.test(text)) {
    return "authentication failed (check the user and password in MONGODB_URL)";
  }
  if (error instanceof MongoServerSelectionError) return "no suitable server answered";
  return error instanceof Error ? error.name : "unknown error";
}
