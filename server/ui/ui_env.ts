/** What the web UI's middleware hands its pages: the signed-in session and its API key. */
import type { ApiKeyRecord } from "../../lib/models/api_key.ts";
import type { UiSession } from "./sessions.ts";

export type UiEnv = {
  Variables: { session: UiSession; sessionId: string; apiKey: ApiKeyRecord };
};
