/** What every route module is built from: the stores (through `lib/dedup.ts`), the limits, the key guards. */
import type { Stores } from "../../lib/dedup.ts";
import type { Limits } from "../limits.ts";
import type { KeyGuards } from "../middleware/api_key_auth.ts";

export interface RouteDeps {
  stores: Stores;
  limits: Limits;
  /** Built once in `createApp`: one middleware per scope. */
  guards: KeyGuards;
}
