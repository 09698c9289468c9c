import assert from "node:assert/strict";
import { MongoNetworkError, MongoServerError } from "mongodb";
import { AppError } from "../../errors.ts";
import { connectFailureReason, redactUrl, run, storeFailure } from "./errors.ts";

Deno.test("redactUrl() leaves out credentials, database and options", () => {
  assert.equal(
    redactUrl("mongodb://user:pa%40ss@db1:27017,db2:27017/putplace?replicaSet=rs0"),
    "mongodb://db1:27017,db2:27017",
  );
  assert.equal(
    redactUrl("mongodb+srv://u:p@cluster0.example.net/?retryWrites=true"),
    "mongodb+srv://cluster0.example.net",
  );
  assert.equal(redactUrl("mongodb://127.0.0.1:27017/"), "mongodb://127.0.0.1:27017");
  assert.equal(redactUrl("postgres://u:p@h/db"), "(an invalid MongoDB URL)");
});

Deno.test("storeFailure() turns driver errors into unavailable without driver text", () => {
  const network = storeFailure(
    new MongoNetworkError("connect ECONNREFUSED 10.0.0.5:27017"),
  );
  assert.equal(network.code, "unavailable");
  assert.equal(network.message, "Metadata store is unreachable");
  const socket = Object.assign(new Error("This socket has been ended by the other party"), {
    code: "EPIPE",
  });
  assert.equal(storeFailure(socket).message, "Metadata store is unreachable");
  const server = storeFailure(new MongoServerError({ message: "secret internals", code: 2 }));
  assert.equal(server.code, "unavailable");
  assert.equal(server.message, "Metadata store failed");
  const own = new AppError("conflict", "mine");
  assert.equal(storeFailure(own), own);
});

Deno.test("run() rejects with the classified AppError and keeps the driver error as cause", async () => {
  const cause = new MongoServerError({ message: "boom", code: 8000 });
  await assert.rejects(run(() => Promise.reject(cause)), (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.cause, cause);
    return true;
  });
});

Deno.test("connectFailureReason() names what an operator can act on", () => {
  assert.match(
    connectFailureReason(new MongoServerError({ message: "Authentication failed.", code: 18 })),
    /authentication failed/,
  );
  assert.equal(
    connectFailureReason(new Error("getaddrinfo ENOTFOUND db.internal")),
    "the host name does not resolve",
  );
  assert.equal(
    connectFailureReason(new Error("connect ECONNREFUSED 127.0.0.1:1")),
    "connection refused",
  );
});
