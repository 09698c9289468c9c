/**
 * The connection guard: ppserver's public listener. It accepts each connection itself and
 * relays its bytes, unchanged, to the HTTP server (`Deno.serve`) on a loopback port.
 *
 * Why not Deno.serve alone: Deno 2.9's `Deno.serve` has no hook at the connection level. It
 * has no header or idle timeout and no connection cap, and its accept loop ends the whole
 * server on the first accept error: with `ulimit -n 64`, 85 idle connections made
 * `server.finished` reject with "Too many open files (os error 24)" and the port stopped
 * answering for good. Why not node:http: Deno's node:http accepts `headersTimeout`,
 * `keepAliveTimeout` and `maxConnections` but does not enforce them (an unfinished request
 * head got no 408 in 8 s, and a fetch after 100 idle connections hung). HTTP parsing stays
 * with Deno.serve (hyper); the guard only counts bytes, watches the clock and learns from
 * the HTTP handler when a request starts and ends on a connection (`connectionOf`).
 *
 * What it enforces:
 * - a cap on open connections: at the cap, a new connection evicts the connection that has
 *   been idle longest; when none is idle it gets a 503 and is closed;
 * - a request head must arrive within `headersTimeoutMs` of the connection's start (or of
 *   its first byte after a keep-alive pause), which ends slow-header attacks;
 * - a connection with no request in flight and no bytes for `idleTimeoutMs` is closed;
 * - a response write that makes no progress for `sendTimeoutMs` (a client that stops
 *   reading) closes the connection;
 * - an accept error (EMFILE, ENFILE, ...) is logged and retried with backoff, evicting an
 *   idle connection first, and lowers the cap; it never ends the server.
 * A request body that stops arriving is the HTTP handler's business (`body_timeout.ts`):
 * only it knows when the application waits for body bytes.
 *
 * Cost: each connection holds three descriptors (the client's, and both ends of the
 * loopback connection), which `defaultMaxConnections` accounts for, and buffers that shrink
 * to 4 KiB while a connection idles.
 */

export interface ConnectionGuardOptions {
  hostname: string;
  port: number;
  /** Share the port with other processes (SO_REUSEPORT, see `server/workers.ts`). */
  reusePort?: boolean;
  /** PEM certificate chain and key: serve TLS (the guard terminates it). */
  tls?: { cert: string; key: string };
  /** Where the HTTP server listens; a function, since it may be restarted. */
  upstreamPort: () => number;
  /** The HTTP server refused a connection: it is gone and must be started again. */
  onUpstreamGone?: () => void;
  maxConnections: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  sendTimeoutMs: number;
  /** Connection-level events worth an operator's attention. */
  log: (level: "warn" | "debug", message: string, fields?: Record<string, unknown>) => void;
}

export interface GuardedConnection {
  readonly remoteAddr: Deno.NetAddr;
  /** The HTTP server began handling a request on this connection. */
  requestStarted(): void;
  /** That request's response was handed to the socket. */
  requestEnded(): void;
  /** Close once the request in flight has ended (the request body was abandoned). */
  closeAfterRequest(): void;
}

export interface ConnectionGuard {
  readonly addr: Deno.NetAddr;
  /** The client connection relayed from this local port of the loopback connection. */
  connectionOf(upstreamLocalPort: number): GuardedConnection | undefined;
  /** Connections open now. */
  readonly openConnections: number;
  /** The cap now: the configured one, lowered if descriptors ran out below it. */
  readonly maxConnections: number;
  /** Stops accepting and closes idle connections; busy ones close once their request ends. */
  drain(): void;
  /** Resolves when draining and every connection has closed. */
  readonly drained: Promise<void>;
  /** Closes everything now. */
  close(): void;
}

/** Descriptors kept for stores, pack files, uploads and the like, outside connections. */
const RESERVED_DESCRIPTORS = 128;
/** Each guarded connection holds three descriptors (see the file comment). */
const DESCRIPTORS_PER_CONNECTION = 3;
const MAX_DEFAULT_CONNECTIONS = 4096;
/** Enough free descriptors for the largest default cap: probing stops there. */
export const PROBE_LIMIT = MAX_DEFAULT_CONNECTIONS * DESCRIPTORS_PER_CONNECTION +
  RESERVED_DESCRIPTORS;

/**
 * The default cap from the descriptors this process can still open: a reserve for the
 * stores, SQLite's journal files and the like (128, or half under a tiny limit), then three
 * descriptors a connection, within 8 and 4096 (`ulimit -n 1024` gives about 290). Null
 * (cannot tell): 256.
 */
export function defaultMaxConnections(freeDescriptors: number | null): number {
  if (freeDescriptors === null) return 256;
  const reserve = Math.min(RESERVED_DESCRIPTORS, Math.floor(freeDescriptors / 2));
  const fromLimit = Math.floor((freeDescriptors - reserve) / DESCRIPTORS_PER_CONNECTION);
  return Math.max(8, Math.min(MAX_DEFAULT_CONNECTIONS, fromLimit));
}

/**
 * How many more descriptors this process can open, up to `limit`: opens /dev/null until
 * "Too many open files" and closes them all again (a few milliseconds). Deno 2.9 lets a
 * program read /proc/self/limits only with --allow-all ("Requires all access"), and the soft
 * limit alone would not count the descriptors already open. Null where /dev/null cannot be
 * opened (Windows) or another error stops the count.
 */
export function probeFreeDescriptors(limit = PROBE_LIMIT): number | null {
  const files: Deno.FsFile[] = [];
  try {
    while (files.length < limit) files.push(Deno.openSync("/dev/null"));
    return limit;
  } catch (error) {
    return isOutOfDescriptors(error) ? files.length : null;
  } finally {
    for (const file of files) file.close();
  }
}

function isOutOfDescriptors(error: unknown): boolean {
  return error instanceof Error && /os error 24\b|too many open files/i.test(error.message);
}

const SMALL_BUFFER = 4 * 1024;
const LARGE_BUFFER = 64 * 1024;

class Relay implements GuardedConnection {
  upstream: Deno.TcpConn | null = null;
  inFlight = 0;
  /** When the current request head began (connection start, or first byte after a pause). */
  headStartedAt: number | null;
  lastActivityAt: number;
  /** When a write to the client that has not finished began. */
  sendingSince: number | null = null;
  closed = false;
  private closing = false;

  constructor(
    readonly client: Deno.Conn,
    readonly remoteAddr: Deno.NetAddr,
    private readonly onClose: (relay: Relay) => void,
  ) {
    this.headStartedAt = this.lastActivityAt = performance.now();
  }

  requestStarted(): void {
    this.inFlight++;
    this.headStartedAt = null;
    this.lastActivityAt = performance.now();
  }

  requestEnded(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.lastActivityAt = performance.now();
    if (this.inFlight === 0 && this.closing) this.endAfterResponse();
  }

  closeAfterRequest(): void {
    this.closing = true;
    if (this.inFlight === 0) this.endAfterResponse();
  }

  /**
   * Half-closes the loopback connection: the HTTP server finishes writing what it has and
   * closes its side, so the relay forwards the last response whole and then ends.
   */
  private endAfterResponse(): void {
    try {
      this.upstream?.closeWrite();
    } catch {
      this.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const conn of [this.client, this.upstream]) {
      try {
        conn?.close();
      } catch { /* already closed */ }
    }
    this.onClose(this);
  }

  /** Client to HTTP server. A byte while no request is in flight starts a request head. */
  async pumpIn(upstream: Deno.TcpConn): Promise<void> {
    let buffer = new Uint8Array(SMALL_BUFFER);
    try {
      while (!this.closed) {
        const n = await this.client.read(buffer);
        if (n === null) {
          upstream.closeWrite();
          return;
        }
        const now = performance.now();
        this.lastActivityAt = now;
        if (this.inFlight === 0 && this.headStartedAt === null) this.headStartedAt = now;
        await writeAll(upstream, buffer.subarray(0, n));
        buffer = nextBuffer(buffer, n, this.inFlight > 0);
      }
    } catch {
      this.close();
    }
  }

  /** HTTP server to client. The server closing its side ends the connection. */
  async pumpOut(upstream: Deno.TcpConn): Promise<void> {
    let buffer = new Uint8Array(SMALL_BUFFER);
    try {
      while (!this.closed) {
        const n = await upstream.read(buffer);
        if (n === null) break;
        this.sendingSince = performance.now();
        await writeAll(this.client, buffer.subarray(0, n));
        this.sendingSince = null;
        this.lastActivityAt = performance.now();
        buffer = nextBuffer(buffer, n, this.inFlight > 0);
      }
    } catch { /* the client went away or was closed */ }
    this.close();
  }
}

/** A full read asks for the large buffer; an idle connection goes back to the small one. */
function nextBuffer(
  buffer: Uint8Array<ArrayBuffer>,
  filled: number,
  busy: boolean,
): Uint8Array<ArrayBuffer> {
  if (filled === buffer.length && buffer.length < LARGE_BUFFER) {
    return new Uint8Array(LARGE_BUFFER);
  }
  if (!busy && filled < SMALL_BUFFER && buffer.length > SMALL_BUFFER) {
    return new Uint8Array(SMALL_BUFFER);
  }
  return buffer;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

const BUSY_BODY = JSON.stringify({
  type: "about:blank",
  title: "Service unavailable",
  status: 503,
  detail: "The server has too many open connections; retry shortly",
});
const BUSY_RESPONSE = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n" +
    `retry-after: 1\r\nconnection: close\r\ncontent-length: ${BUSY_BODY.length}\r\n\r\n` +
    BUSY_BODY,
);

/** Answers 503 without reading the request and closes; gives up after a second. */
function refuse(conn: Deno.Conn): void {
  const timer = setTimeout(() => closeQuietly(conn), 1000);
  writeAll(conn, BUSY_RESPONSE).catch(() => {}).finally(() => {
    clearTimeout(timer);
    closeQuietly(conn);
  });
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

export function openConnectionGuard(options: ConnectionGuardOptions): ConnectionGuard {
  if (!(options.maxConnections >= 1)) throw new TypeError("maxConnections must be at least 1");
  const listener: Deno.Listener = options.tls
    ? Deno.listenTls({
      hostname: options.hostname,
      port: options.port,
      cert: options.tls.cert,
      key: options.tls.key,
      ...(options.reusePort ? { reusePort: true } : {}),
    })
    : Deno.listen({
      hostname: options.hostname,
      port: options.port,
      ...(options.reusePort ? { reusePort: true } : {}),
    });
  const relays = new Set<Relay>();
  let maxConnections = options.maxConnections;
  /** Out of descriptors below the cap: the cap was too high for this process; lower it. */
  const learnLimit = (error: unknown) => {
    const emfile = error instanceof Error &&
      /os error 24\b|too many open files/i.test(error.message);
    if (!emfile || relays.size > maxConnections) return;
    const lowered = Math.max(8, Math.floor(relays.size * 3 / 4));
    if (lowered >= maxConnections) return;
    maxConnections = lowered;
    options.log("warn", "Ran out of file descriptors: lowered the connection cap", {
      max_connections: maxConnections,
    });
  };
  const byUpstreamPort = new Map<number, Relay>();
  const drained = Promise.withResolvers<void>();
  let draining = false;
  let stopped = false;

  const forget = (relay: Relay) => {
    relays.delete(relay);
    const port = relay.upstream?.localAddr.port;
    if (port !== undefined && byUpstreamPort.get(port) === relay) byUpstreamPort.delete(port);
    if (draining && relays.size === 0) drained.resolve();
  };

  /** Closes the connection idle longest; false when every connection is busy. */
  const evictIdlest = (): boolean => {
    let idlest: Relay | null = null;
    for (const relay of relays) {
      if (relay.inFlight > 0) continue;
      if (!idlest || relay.lastActivityAt < idlest.lastActivityAt) idlest = relay;
    }
    if (!idlest) return false;
    options.log("debug", "Closed the connection idle longest to admit a new one", {
      remote: `${idlest.remoteAddr.hostname}:${idlest.remoteAddr.port}`,
    });
    idlest.close();
    return true;
  };

  const sweepEvery = Math.max(
    50,
    Math.min(1000, options.headersTimeoutMs / 4, options.idleTimeoutMs / 4),
  );
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const relay of relays) {
      let reason: string | null = null;
      if (relay.sendingSince !== null && now - relay.sendingSince > options.sendTimeoutMs) {
        reason = "the client stopped reading the response";
      } else if (relay.inFlight === 0) {
        if (relay.headStartedAt !== null && now - relay.headStartedAt > options.headersTimeoutMs) {
          reason = "no complete request head in time";
        } else if (
          relay.headStartedAt === null && now - relay.lastActivityAt > options.idleTimeoutMs
        ) {
          reason = "idle";
        }
      }
      if (reason) {
        options.log("debug", "Closed a connection", {
          reason,
          remote: `${relay.remoteAddr.hostname}:${relay.remoteAddr.port}`,
        });
        relay.close();
      }
    }
  }, sweepEvery);

  const admit = async (client: Deno.Conn) => {
    while (relays.size >= maxConnections) {
      if (!evictIdlest()) break;
    }
    if (relays.size >= maxConnections) {
      refuse(client);
      return;
    }
    const relay = new Relay(client, client.remoteAddr as Deno.NetAddr, forget);
    relays.add(relay);
    let upstream: Deno.TcpConn | null = null;
    // Out of descriptors: free one (the connection idle longest) and try again, twice.
    for (let attempt = 0; upstream === null; attempt++) {
      try {
        upstream = await Deno.connect({ hostname: "127.0.0.1", port: options.upstreamPort() });
      } catch (error) {
        learnLimit(error);
        if (error instanceof Deno.errors.ConnectionRefused) options.onUpstreamGone?.();
        if (attempt < 2 && (evictIdlest() || error instanceof Deno.errors.ConnectionRefused)) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          continue;
        }
        relays.delete(relay);
        options.log("warn", "Cannot reach the HTTP server for a new connection", {
          error: error instanceof Error ? error.message : String(error),
        });
        refuse(client);
        if (draining && relays.size === 0) drained.resolve();
        return;
      }
    }
    if (relay.closed) {
      closeQuietly(upstream);
      return;
    }
    relay.upstream = upstream;
    byUpstreamPort.set(upstream.localAddr.port, relay);
    relay.pumpIn(upstream);
    relay.pumpOut(upstream);
  };

  const acceptLoop = async () => {
    let backoffMs = 0;
    let lastWarning = 0;
    while (!stopped) {
      let client: Deno.Conn;
      try {
        client = await listener.accept();
        backoffMs = 0;
      } catch (error) {
        if (stopped) return;
        // EMFILE and friends: free a descriptor if we can, wait a little, go on accepting.
        learnLimit(error);
        evictIdlest();
        backoffMs = Math.min(1000, Math.max(10, backoffMs * 2));
        const now = Date.now();
        if (now - lastWarning > 5000) {
          lastWarning = now;
          options.log("warn", "Accepting a connection failed; still listening", {
            error: error instanceof Error ? error.message : String(error),
            open_connections: relays.size,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        continue;
      }
      if (draining) {
        closeQuietly(client);
        continue;
      }
      admit(client);
    }
  };
  acceptLoop();

  const stopListening = () => {
    if (stopped) return;
    stopped = true;
    try {
      listener.close();
    } catch { /* already closed */ }
  };

  return {
    addr: listener.addr as Deno.NetAddr,
    connectionOf: (port) => byUpstreamPort.get(port),
    get openConnections() {
      return relays.size;
    },
    get maxConnections() {
      return maxConnections;
    },
    drain() {
      draining = true;
      stopListening();
      for (const relay of [...relays]) relay.closeAfterRequest();
      if (relays.size === 0) drained.resolve();
    },
    drained: drained.promise,
    close() {
      stopListening();
      clearInterval(sweeper);
      for (const relay of [...relays]) relay.close();
      drained.resolve();
    },
  };
}
