/**
 * Classic `POST /put_file` requests/s at 32 connections on loopback, driven by wrk
 * (Debian package `wrk`) against a real ppserver on the embedded default. Every request
 * registers a new file (unique path), so each one is a real insert.
 */
import { startPpserver } from "../tests/_servers/ppserver.ts";

const LUA = `
local counter = 0
local thread_id = 0
local threads = 0
function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  local body = string.format(
    '{"filepath":"/bench/%d/%d.txt","hostname":"bench-host","ip_address":"127.0.0.1",' ..
    '"sha256":"%064x","file_size":%d,"file_mode":33188,"file_uid":1000,"file_gid":1000,' ..
    '"file_mtime":1700000000.5,"file_atime":1700000000.5,"file_ctime":1700000000.5}',
    thread_id, counter, counter * 7919 + thread_id, 1000 + counter % 7000)
  return wrk.format("POST", "/put_file", nil, body)
end
`;

export async function putFileBench(
  options: { connections?: number; seconds?: number } = {},
): Promise<Record<string, number | string>> {
  const connections = options.connections ?? 32;
  const seconds = options.seconds ?? 10;
  await using server = await startPpserver();
  const dir = await Deno.makeTempDir({ prefix: "wrk-" });
  try {
    const script = `${dir}/put_file.lua`;
    await Deno.writeTextFile(script, LUA);
    const out = await new Deno.Command("wrk", {
      args: [
        "-t2",
        `-c${connections}`,
        `-d${seconds}s`,
        "-s",
        script,
        "-H",
        `X-API-Key: ${server.adminKey}`,
        "-H",
        "Content-Type: application/json",
        server.url,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (out.code !== 0) throw new Error(`wrk failed: ${new TextDecoder().decode(out.stderr)}`);
    const rate = Number(text.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
    const non2xx = Number(text.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
    const latency = text.match(/Latency\s+(\S+)/)?.[1] ?? "?";
    return {
      requests_per_s: Math.round(rate),
      non_2xx: non2xx,
      mean_latency: latency,
      connections,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) console.log(await putFileBench());
