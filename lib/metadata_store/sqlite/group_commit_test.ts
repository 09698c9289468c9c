import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { GroupCommit } from "./group_commit.ts";

function database(): DatabaseSync {
  const db = new DatabaseSync(":memory:");
  db.exec("CREATE TABLE t (v TEXT UNIQUE)");
  return db;
}

function values(db: DatabaseSync): string[] {
  return db.prepare("SELECT v FROM t ORDER BY v").all().map((row) => String(row.v));
}

Deno.test("each queued write runs inside a transaction, and a failing write takes no other with it", async () => {
  const db = database();
  const commits = new GroupCommit(db, (error) => error);
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
  const commits = new GroupCommit(db, () => new Error("mapped"));
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
  const commits = new GroupCommit(db, (error) => error);
  const pending = commits.run(() => db.prepare("INSERT INTO t (v) VALUES ('z')").run());
  commits.flush();
  assert.deepEqual(values(db), ["z"]);
  db.close();
  await pending;
});
