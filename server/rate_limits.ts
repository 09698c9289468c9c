/**
 * Rate limits per API key: a token bucket of requests per second (a request over it gets
 * 429 with `Retry-After`, which ppclient honours) and one of request-body bytes per second
 * (bodies are paced to it, not refused: an upload of any size still completes). Keys are
 * told apart by the SHA-256 of the key presented (the same hash the store keeps), before
 * authentication, so an invalid key is limited too and the store is not asked.
 */
import { hashApiKey } from "../lib/auth.ts";
import { AppError } from "../lib/errors.ts";
import { problemResponse } from "./problem_response.ts";

export interface RateLimitSettings {
  /** Requests per second per key; null: unlimited. */
  requestsPerSecond: number | null;
  /** Request-body bytes per second per key; null: unlimited. */
  bytesPerSecond: number | null;
}

/** Keys remembered at most; the least recently seen is forgotten first. */
const MAX_KEYS = 10_000;

class TokenBucket {
  private tokens: number;
  private at = performance.now();

  constructor(private readonly rate: number, private readonly capacity: number) {
    this.tokens = capacity;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.at) / 1000 * this.rate);
    this.at = now;
  }

  /** Takes one token, or says in how many seconds one will be there. */
  take(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return (1 - this.tokens) / this.rate;
  }

  /** Takes `n` tokens, going into debt; resolves once the debt is paid back. */
  async spend(n: number): Promise<void> {
    this.refill();
    this.tokens -= n;
    if (this.tokens < 0) {
      await new Promise((resolve) => setTimeout(resolve, (-this.tokens / this.rate) * 1000));
    }
  }
}

export interface RateLimiter {
  /** A 429 response when the key's request rate is used up, else null. */
  admit(request: Request): Response | null;
  /** The request body, paced to the key's byte rate (the body itself when unlimited). */
  pace(request: Request, body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array>;
}

export function createRateLimiter(settings: RateLimitSettings): RateLimiter | null {
  const { requestsPerSecond, bytesPerSecond } = settings;
  if (requestsPerSecond === null && bytesPerSecond === null) return null;
  const buckets = new Map<string, { requests?: TokenBucket; bytes?: TokenBucket }>();
  const bucketsOf = (request: Request) => {
    const key = request.headers.get("x-api-key")?.trim() ||
      request.headers.get("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (!key) return null;
    const id = hashApiKey(key);
    let found = buckets.get(id);
    if (found) {
      buckets.delete(id);
    } else {
      found = {
        // A burst of two seconds' worth, at least one request.
        requests: requestsPerSecond === null
          ? undefined
          : new TokenBucket(requestsPerSecond, Math.max(1, 2 * requestsPerSecond)),
        bytes: bytesPerSecond === null
          ? undefined
          : new TokenBucket(bytesPerSecond, bytesPerSecond),
      };
      if (buckets.size >= MAX_KEYS) buckets.delete(buckets.keys().next().value!);
    }
    buckets.set(id, found);
    return found;
  };
  return {
    admit(request) {
      const wait = bucketsOf(request)?.requests?.take() ?? 0;
      if (wait === 0) return null;
      const seconds = Math.max(1, Math.ceil(wait));
      return problemResponse(
        new AppError(
          "rate_limited",
          `This API key is over its limit of ${requestsPerSecond} requests a second; retry in ${seconds} s`,
        ),
        { "retry-after": String(seconds) },
      );
    },
    pace(request, body) {
      const bucket = bucketsOf(request)?.bytes;
      if (!bucket) return body;
      const reader = body.getReader();
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          await bucket.spend(value.byteLength);
          controller.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      }, { highWaterMark: 0 });
    },
  };
}
