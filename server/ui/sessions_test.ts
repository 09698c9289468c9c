import assert from "node:assert/strict";
import { csrfTokenMatches, UiSessions } from "./sessions.ts";

Deno.test("UiSessions gives each session a random id and CSRF token and finds it by id only", () => {
  const sessions = new UiSessions();
  const a = sessions.create("key-1");
  const b = sessions.create("key-1");
  assert.match(a.id, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a.id, b.id);
  assert.notEqual(a.session.csrfToken, b.session.csrfToken);
  assert.equal(sessions.get(a.id)?.apiKeyId, "key-1");
  assert.equal(sessions.get(a.id.slice(0, -1) + (a.id.endsWith("A") ? "B" : "A")), null);
  assert.equal(sessions.get("not an id"), null);
  assert.ok(csrfTokenMatches(a.session, a.session.csrfToken));
  assert.ok(!csrfTokenMatches(a.session, b.session.csrfToken));
  assert.ok(!csrfTokenMatches(a.session, undefined));
});

Deno.test("UiSessions keeps at most maxSessions, dropping the oldest", () => {
  const sessions = new UiSessions({ maxSessions: 2 });
  const first = sessions.create("k");
  const second = sessions.create("k");
  const third = sessions.create("k");
  assert.equal(sessions.size, 2);
  assert.equal(sessions.get(first.id), null);
  assert.ok(sessions.get(second.id));
  assert.ok(sessions.get(third.id));
});

Deno.test("UiSessions sweeps expired sessions when a new one starts", () => {
  let now = 0;
  const sessions = new UiSessions({ idleMs: 10, absoluteMs: 100, now: () => now });
  sessions.create("k");
  sessions.create("k");
  now = 11;
  sessions.create("k");
  assert.equal(sessions.size, 1);
});

Deno.test("UiSessions refuses lifetimes that are not positive integers", () => {
  assert.throws(() => new UiSessions({ idleMs: 0 }), /idleMs must be a positive integer/);
  assert.throws(() => new UiSessions({ maxSessions: 1.5 }), /maxSessions/);
});
