/**
 * Browser sessions of the web UI. A session is created by signing in with an API key; the
 * browser holds only a random session id (in an HttpOnly cookie), never the key. The server
 * keeps, per session, the id of the API key that signed in (so revoking or deleting that key
 * ends its sessions at the next request) and the CSRF token of its forms.
 *
 * Sessions live in the memory of the ppserver process: a restart signs everyone out, and
 * several ppserver processes behind a load balancer need sticky routing for the UI. Entries
 * are indexed by the SHA-256 of the session id, so the table holds no usable secret. Expired
 * sessions are dropped when met and swept on each sign-in; the table is bounded (the oldest
 * session goes first).
 */
import { createHash, randomBytes } from "node:crypto";
import { constantTimeEqual } from "../../lib/auth.ts";

export interface UiSession {
  /** The API key that signed in. */
  apiKeyId: string;
  /** Sent back by every state-changing form of this session. */
  csrfToken: string;
  createdAt: number;
  /** Idle expiry, pushed forward by use, never past `absoluteExpiry`. */
  expiresAt: number;
  absoluteExpiry: number;
}

export interface UiSessionOptions {
  /** A session unused this long expires. Default: 1 hour. */
  idleMs?: number;
  /** A session expires this long after sign-in, used or not. Default: 12 hours. */
  absoluteMs?: number;
  /** The most sessions kept at once. Default: 10,000. */
  maxSessions?: number;
  /** The clock (tests move it). */
  now?: () => number;
}

export class UiSessions {
  readonly idleMs: number;
  readonly absoluteMs: number;
  readonly #maxSessions: number;
  readonly #now: () => number;
  /** By SHA-256 of the session id; insertion order is creation order. */
  readonly #sessions = new Map<string, UiSession>();

  constructor(options: UiSessionOptions = {}) {
    this.idleMs = options.idleMs ?? 60 * 60 * 1000;
    this.absoluteMs = options.absoluteMs ?? 12 * 60 * 60 * 1000;
    this.#maxSessions = options.maxSessions ?? 10_000;
    this.#now = options.now ?? Date.now;
    for (
      const [name, value] of Object.entries({
        idleMs: this.idleMs,
        absoluteMs: this.absoluteMs,
        maxSessions: this.#maxSessions,
      })
    ) {
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new TypeError(`UiSessions: ${name} must be a positive integer, got ${value}`);
      }
    }
  }

  /** Starts a session for an API key; returns the session id for the cookie. */
  create(apiKeyId: string): { id: string; session: UiSession } {
    const now = this.#now();
    this.#sweep(now);
    while (this.#sessions.size >= this.#maxSessions) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
    const id = randomBytes(32).toString("base64url");
    const session: UiSession = {
      apiKeyId,
      csrfToken: randomBytes(32).toString("base64url"),
      createdAt: now,
      expiresAt: Math.min(now + this.idleMs, now + this.absoluteMs),
      absoluteExpiry: now + this.absoluteMs,
    };
    this.#sessions.set(digestOf(id), session);
    return { id, session };
  }

  /** The live session with this id, its idle expiry renewed; null when unknown or expired. */
  get(id: string): UiSession | null {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const key = digestOf(id);
    const session = this.#sessions.get(key);
    if (!session) return null;
    const now = this.#now();
    if (now >= session.expiresAt) {
      this.#sessions.delete(key);
      return null;
    }
    session.expiresAt = Math.min(now + this.idleMs, session.absoluteExpiry);
    return session;
  }

  /** Ends a session (sign-out); unknown ids are ignored. */
  delete(id: string): void {
    if (/^[A-Za-z0-9_-]{43}$/.test(id)) this.#sessions.delete(digestOf(id));
  }

  /** Ends every session of an API key (it was revoked or deleted). */
  deleteForApiKey(apiKeyId: string): void {
    for (const [key, session] of this.#sessions) {
      if (session.apiKeyId === apiKeyId) this.#sessions.delete(key);
    }
  }

  get size(): number {
    return this.#sessions.size;
  }

  #sweep(now: number): void {
    for (const [key, session] of this.#sessions) {
      if (now >= session.expiresAt) this.#sessions.delete(key);
    }
  }
}

/** True when a form's token is the session's CSRF token (constant time). */
export function csrfTokenMatches(session: UiSession, presented: string | undefined): boolean {
  return presented !== undefined && constantTimeEqual(session.csrfToken, presented);
}

function digestOf(id: string): string {
  return createHash("sha256").update(id, "utf8").digest("hex");
}
