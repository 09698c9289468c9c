/**
 * Prometheus metrics of a ppserver process (prom-client): requests and their latency per
 * route and status, bytes in and out, requests and uploads in flight, blob uploads stored
 * or deduplicated, store errors, group-commit batch sizes. Served at `/metrics` to admin
 * keys, or without a key on a separate address (`PUTPLACE_METRICS_LISTEN`).
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Stores } from "../lib/dedup.ts";
import { AppError } from "../lib/errors.ts";
import type { RequestRecord } from "./request_record.ts";

/** The routes whose requests carry blob bytes up: "in-flight uploads" counts them. */
const UPLOAD_ROUTES = new Set([
  "POST /upload_file/:sha256",
  "PUT /v1/blobs/:digest",
  "POST /v1/blobs/batch",
  "PATCH /v1/uploads/:id",
]);

export function isUploadRoute(method: string, route: string): boolean {
  return UPLOAD_ROUTES.has(`${method} ${route}`);
}

export interface ServerMetrics extends Disposable {
  /** A finished request (its route, status, bytes and duration). */
  request(record: RequestRecord): void;
  /** Requests in flight, up or down. */
  inFlight(delta: 1 | -1): void;
  /** Uploads in flight, up or down. */
  uploadsInFlight(delta: 1 | -1): void;
  /** The stores, with every failed call counted (client errors such as a digest mismatch are not). */
  countStoreErrors(stores: Stores): Stores;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  const labels = ["method", "route", "status"] as const;
  const requests = new Counter({
    name: "putplace_http_requests_total",
    help: "HTTP requests answered, by method, route and status",
    labelNames: labels,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "putplace_http_request_duration_seconds",
    help: "Time from a request's head to its last response byte, by method, route and status",
    labelNames: labels,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const bytesIn = new Counter({
    name: "putplace_http_request_bytes_total",
    help: "Request body bytes read, by route",
    labelNames: ["route"],
    registers: [registry],
  });
  const bytesOut = new Counter({
    name: "putplace_http_response_bytes_total",
    help: "Response body bytes sent, by route",
    labelNames: ["route"],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: "putplace_http_requests_in_flight",
    help: "Requests being handled now",
    registers: [registry],
  });
  const uploads = new Gauge({
    name: "putplace_uploads_in_flight",
    help: "Blob uploads (classic, /v1 PUT, small-blob batches, resumable PATCH) in flight now",
    registers: [registry],
  });
  const blobs = new Counter({
    name: "putplace_blobs_total",
    help: "Uploaded blobs by outcome: stored (new content) or deduplicated (content already held)",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const blobBytes = new Counter({
    name: "putplace_blob_bytes_total",
    help: "Bytes of uploaded blobs by outcome: stored, or deduplicated (not stored again)",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: "putplace_store_errors_total",
    help: "Failed store calls, by store (metadata, blob) and operation",
    labelNames: ["store", "operation"],
    registers: [registry],
  });
  const batchSizes = new Histogram({
    name: "putplace_group_commit_batch_size",
    help: "Writes sharing one group commit: sqlite (metadata) or packs (small blobs)",
    labelNames: ["store"],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
    registers: [registry],
  });
  for (const outcome of ["stored", "deduplicated"]) {
    blobs.inc({ outcome }, 0);
    blobBytes.inc({ outcome }, 0);
  }

  const onGroupCommit = (message: unknown) => {
    if (
      isRecord(message) && typeof message.store === "string" && typeof message.size === "number"
    ) {
      batchSizes.observe({ store: message.store }, message.size);
    }
  };
  const onBlobOutcome = (message: unknown) => {
    if (
      isRecord(message) && typeof message.outcome === "string" && typeof message.bytes === "number"
    ) {
      blobs.inc({ outcome: message.outcome });
      blobBytes.inc({ outcome: message.outcome }, message.bytes);
    }
  };
  subscribe("putplace:group-commit", onGroupCommit);
  subscribe("putplace:blob-outcome", onBlobOutcome);

  const countFailure = (store: string, operation: string, error: unknown) => {
    if (error instanceof AppError && error.status < 500) return;
    storeErrors.inc({ store, operation });
  };

  return {
    request(record) {
      const route = record.route ?? "unmatched";
      const values = { method: record.method, route, status: String(record.status) };
      requests.inc(values);
      duration.observe(values, record.durationMs / 1000);
      bytesIn.inc({ route }, record.bytesIn);
      bytesOut.inc({ route }, record.bytesOut);
    },
    inFlight: (delta) => inFlight.inc(delta),
    uploadsInFlight: (delta) => uploads.inc(delta),
    countStoreErrors(stores) {
      return {
        ...stores,
        metadata: counted(stores.metadata, "metadata", "", countFailure),
        blobs: counted(stores.blobs, "blob", "", countFailure),
      };
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    [Symbol.dispose]() {
      unsubscribe("putplace:group-commit", onGroupCommit);
      unsubscribe("putplace:blob-outcome", onBlobOutcome);
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/**
 * The store with each method's failures (thrown or rejected) reported; nested indexes
 * (`metadata.files`, ...) likewise. Methods run on the real object, so private fields work.
 */
function counted<T extends object>(
  target: T,
  store: string,
  prefix: string,
  onFailure: (store: string, operation: string, error: unknown) => void,
): T {
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      const name = typeof property === "string" ? `${prefix}${property}` : "";
      if (typeof value === "function") {
        if (name === "") return value.bind(object);
        return (...args: unknown[]) => {
          try {
            const result: unknown = value.apply(object, args);
            if (result instanceof Promise) {
              return result.catch((error: unknown) => {
                onFailure(store, name, error);
                throw error;
              });
            }
            return result;
          } catch (error) {
            onFailure(store, name, error);
            throw error;
          }
        };
      }
      if (isRecord(value) && name !== "" && !Array.isArray(value)) {
        return counted(value, store, `${name}.`, onFailure);
      }
      return value;
    },
  });
}
