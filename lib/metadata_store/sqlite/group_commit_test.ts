import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { GroupCommit } from "./group_commit.ts";

function database(): DatabaseSync {
  const db = new DatabaseSync(":memory:");
  db.exec("CREATE TABLE t (v TEXT UNIQUE)");
  return db;
}

const noSync = () => Promise.resolve();

function values(db: DatabaseSync): string[] {
  return db.prepare("SELECT v FROM t ORDER BY v").all().map((row) => String(row.v));
}

Deno.test("each queued write runs inside a transaction, and a failing write takes no other with it", async () => {
  const db = database();
  const commits = new GroupCommit(db, (error) => error, noSync);
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  const write = (value: string, fail = false) =>
    commits.run(() => {
      if (!db.isTransaction) throw new Error("not in a transaction");
      insert.run(value);
      if (fail) throw new Error(`refused ${value}`);
      return value;
    });
  const results = await Promise.allSettled([write("a"), write("b", true), write("c")]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  assert.equal((results[1] as PromiseRejectedResult).reason.message, "refused b");
  assert.deepEqual(values(db), ["a", "c"]);
  assert.equal(db.isTransaction, false);
  db.close();
});

Deno.test("a write that breaks a constraint fails alone with the mapped error", async () => {
  const db = database();
  const commits = new GroupCommit(db, () => new Error("mapped"), noSync);
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  const results = await Promise.allSettled([
    commits.run(() => insert.run("x")),
    commits.run(() => insert.run("x")),
    commits.run(() => insert.run("y")),
  ]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  assert.equal((results[1] as PromiseRejectedResult).reason.message, "mapped");
  assert.deepEqual(values(db), ["x", "y"]);
  db.close();
});

Deno.test("flush() commits what is queued at once, before the database closes", async () => {
  const db = database();
  const commits = new GroupCommit(db, (error) => error, noSync);
  const pending = commits.run(() => db.prepare("INSERT INTO t (v) VALUES ('z')").run());
  commits.flush();
  assert.deepEqual(values(db), ["z"]);
  db.close();
  await pending;
});

Deno.test("a write resolves only after a sync that started after its commit; writes committed meanwhile share the next sync", async () => {
  const db = database();
  const syncs: PromiseWithResolvers<void>[] = [];
  const commits = new GroupCommit(db, (error) => error, () => {
    syncs.push(Promise.withResolvers<void>());
    return syncs.at(-1)!.promise;
  });
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  let firstDone = false;
  const first = commits.run(() => insert.run("a")).then(() => firstDone = true);
  commits.flush();
  assert.deepEqual(values(db), ["a"], "committed");
  assert.equal(syncs.length, 1);
  const second = commits.run(() => insert.run("b"));
  const third = commits.run(() => insert.run("c"));
  commits.flush();
  assert.equal(syncs.length, 1, "the sync in flight may have missed b and c: they wait");
  await Promise.resolve();
  assert.equal(firstDone, false, "not durable before its sync ends");
  syncs[0].resolve();
  await first;
  assert.equal(firstDone, true);
  while (syncs.length < 2) await new Promise((resolve) => setTimeout(resolve, 1));
  syncs[1].resolve();
  await Promise.all([second, third]);
  assert.equal(syncs.length, 2, "one sync for both");
  await commits.settled();
  db.close();
});

Deno.test("a failed sync rejects the writes it was to make durable, with the mapped error", async () => {
  const db = database();
  const commits = new GroupCommit(db, () => new Error("mapped"), () => {
    return Promise.reject(new Error("EIO"));
  });
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  await assert.rejects(commits.run(() => insert.run("a")), /mapped/);
  await commits.settled();
  db.close();
});
