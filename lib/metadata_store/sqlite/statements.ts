/** Prepared statements made once per store, and one immediate transaction. */
import type { DatabaseSync, StatementSync } from "node:sqlite";

export class Statements {
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, StatementSync>();
  constructor(db: DatabaseSync) {
    this.#db = db;
  }
  get(text: string): StatementSync {
    let statement = this.#cache.get(text);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#cache.set(text, statement);
    }
    return statement;
  }
}

/** The statement, reading integers as BigInt (for sums that may pass 2^53). */
export function bigInts(statement: StatementSync): StatementSync {
  statement.setReadBigInts(true);
  return statement;
}

export function transaction<T>(db: DatabaseSync, body: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = body();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}
