/**
 * What the access log and metrics learn about one request. The HTTP server fills in the
 * transport facts; the application fills in `route` and `keyId` (`observeRequest`), found
 * here by the request object it was handed.
 */
export interface RequestRecord {
  time: Date;
  method: string;
  path: string;
  /** The route pattern that answered (`/v1/blobs/:digest`), or null when none matched. */
  route: string | null;
  /** 499 when the client went away before a response. */
  status: number;
  /** Request body bytes the application read. */
  bytesIn: number;
  /** Response body bytes. */
  bytesOut: number;
  durationMs: number;
  /** The client's address. */
  remote: string;
  /** The id of the API key that authenticated the request (never the key). */
  keyId: string | null;
}

export const requestRecords = new WeakMap<Request, RequestRecord>();
