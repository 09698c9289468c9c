/** HTTPS served directly with --tls-cert/--tls-key, using a certificate made by openssl now. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startPpserver } from "./_servers/ppserver.ts";

/** A throwaway CA and a server certificate for 127.0.0.1 signed by it (rustls wants both). */
async function certificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const path = (name: string) => join(dir, name);
  await Deno.writeTextFile(
    path("leaf.ext"),
    "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const steps = [
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      path("ca.key"),
      "-out",
      path("ca.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=PutPlace test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
    ],
    ["req", ...ec, "-keyout", path("key.pem"), "-out", path("leaf.csr"), "-subj", "/CN=localhost"],
    [
      "x509",
      "-req",
      "-in",
      path("leaf.csr"),
      "-CA",
      path("ca.pem"),
      "-CAkey",
      path("ca.key"),
      "-CAcreateserial",
      "-out",
      path("cert.pem"),
      "-days",
      "1",
      "-extfile",
      path("leaf.ext"),
    ],
  ];
  for (const args of steps) {
    const made = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" })
      .output();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
  }
  return { ca: path("ca.pem"), cert: path("cert.pem"), key: path("key.pem") };
}

const hasOpenssl = await new Deno.Command("openssl", { args: ["version"], stdout: "null" })
  .output().then((r) => r.success, () => false);

Deno.test({
  name: "--tls-cert and --tls-key serve HTTPS with that certificate" +
    (hasOpenssl ? "" : " (ignored: no openssl to make a certificate)"),
  ignore: !hasOpenssl,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ppserver-tls-" });
    try {
      const { ca, cert, key } = await certificates(dir);
      await using server = await startPpserver({ args: ["--tls-cert", cert, "--tls-key", key] });
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      using client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(ca)] });
      const health = await fetch(`${server.url}/health`, { client });
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const keys = await fetch(`${server.url}/api_keys`, {
        client,
        headers: { "x-api-key": server.adminKey },
      });
      assert.equal(keys.status, 200);
      assert.equal((await keys.json()).length, 1);
      await assert.rejects(
        fetch(server.url.replace("https:", "http:") + "/health").then((r) => r.body?.cancel()),
        "plain HTTP is not answered on the TLS port",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a TLS certificate without its key stops start-up with a message naming both", async () => {
  await assert.rejects(
    startPpserver({ args: ["--tls-cert", "/nonexistent.pem"] }),
    /set both --tls-cert and --tls-key/,
  );
});
