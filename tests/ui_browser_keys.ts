/** Makes an API key through a running ppserver's classic key API (for browser tests). */
import { z } from "zod";
import type { Scope } from "../lib/models/api_key.ts";

export async function issueKeyOver(url: string, adminKey: string, scope: Scope): Promise<string> {
  const response = await fetch(`${url}/api_keys`, {
    method: "POST",
    headers: { "x-api-key": adminKey, "content-type": "application/json" },
    body: JSON.stringify({ name: `ui-test ${scope}`, scope }),
  });
  if (response.status !== 201) throw new Error(`POST /api_keys: ${response.status}`);
  return z.object({ api_key: z.string() }).parse(await response.json()).api_key;
}
