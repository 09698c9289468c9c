import assert from "node:assert/strict";
import { compileExclude } from "./exclude.ts";
import { walk, type WalkEvent, type WalkOptions } from "./walk.ts";

async function tree(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ppclient-walk-" });
  for (const [path, content] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, content);
  }
  return root;
}

async function collect(root: string, options: Partial<WalkOptions> = {}): Promise<WalkEvent[]> {
  const events: WalkEvent[] = [];
  for await (
    const event of walk(root, {
      exclude: [],
      followSymlinks: false,
      oneFileSystem: false,
      ...options,
    })
  ) {
    events.push(event);
  }
  return events;
}

function summarize(root: string, events: WalkEvent[]): string[] {
  return events.map((e) => {
    const rel = e.path === root ? "." : e.path.slice(root.length + 1);
    return e.kind === "skipped" ? `skipped:${e.reason}:${rel}` : `${e.kind}:${rel}`;
  }).sort();
}

Deno.test("walk() yields every regular file and directory under a root", async () => {
  const root = await tree({ "a.txt": "a", "sub/b.txt": "b", "sub/deeper/c.txt": "c" });
  try {
    assert.deepEqual(summarize(root, await collect(root)), [
      "directory:.",
      "directory:sub",
      "directory:sub/deeper",
      "file:a.txt",
      "file:sub/b.txt",
      "file:sub/deeper/c.txt",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("walk() yields a root that is a file as that file", async () => {
  const root = await tree({ "only.txt": "x" });
  try {
    const events = await collect(`${root}/only.txt`);
    assert.deepEqual(events.map((e) => [e.kind, e.path]), [["file", `${root}/only.txt`]]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("walk() skips excluded directories without entering them", async () => {
  const root = await tree({
    "keep.txt": "k",
    ".git/objects/x": "x",
    "src/node_modules/pkg/i.js": "i",
    "src/main.ts": "m",
    "logs/a.log": "l",
  });
  try {
    // Nothing below an excluded directory shows up: not even its directories.
    const events = await collect(root, {
      exclude: [".git", "node_modules", "*.log"].map(compileExclude),
    });
    assert.deepEqual(summarize(root, events), [
      "directory:.",
      "directory:logs",
      "directory:src",
      "file:keep.txt",
      "file:src/main.ts",
      "skipped:excluded:.git",
      "skipped:excluded:logs/a.log",
      "skipped:excluded:src/node_modules",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("walk() skips symbolic links by default", async () => {
  const root = await tree({ "real/f.txt": "f" });
  try {
    await Deno.symlink(`${root}/real/f.txt`, `${root}/link-file`);
    await Deno.symlink(`${root}/real`, `${root}/link-dir`);
    assert.deepEqual(summarize(root, await collect(root)), [
      "directory:.",
      "directory:real",
      "file:real/f.txt",
      "skipped:symlink:link-dir",
      "skipped:symlink:link-file",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("walk() with followSymlinks follows links, skips loops and dangling links, and ends", async () => {
  const root = await tree({ "real/f.txt": "f", "real/inner/g.txt": "g" });
  try {
    await Deno.symlink(`${root}/real/f.txt`, `${root}/link-file`);
    await Deno.symlink(`${root}/real`, `${root}/link-dir`);
    await Deno.symlink(".", `${root}/real/inner/self`);
    await Deno.symlink("../..", `${root}/real/inner/up`);
    await Deno.symlink(`${root}/missing`, `${root}/dangling`);
    const events = await collect(root, { followSymlinks: true });
    assert.deepEqual(summarize(root, events), [
      "directory:.",
      "directory:link-dir",
      "directory:link-dir/inner",
      "directory:real",
      "directory:real/inner",
      "file:link-dir/f.txt",
      "file:link-dir/inner/g.txt",
      "file:link-file",
      "file:real/f.txt",
      "file:real/inner/g.txt",
      "skipped:dangling_symlink:dangling",
      "skipped:symlink_loop:link-dir/inner/self",
      "skipped:symlink_loop:link-dir/inner/up",
      "skipped:symlink_loop:real/inner/self",
      "skipped:symlink_loop:real/inner/up",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

const mkfifo = await (async () => {
  try {
    return (await new Deno.Command("mkfifo", { args: ["--version"] }).output()).success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "walk() skips special files (a FIFO) without opening them",
  ignore: !mkfifo,
  async fn() {
    const root = await tree({ "f.txt": "f" });
    try {
      const made = await new Deno.Command("mkfifo", { args: [`${root}/pipe`] }).output();
      assert.ok(made.success);
      assert.deepEqual(summarize(root, await collect(root)), [
        "directory:.",
        "file:f.txt",
        "skipped:special:pipe",
      ]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

const otherDevice = await (async () => {
  try {
    const shm = await Deno.stat("/dev/shm");
    const tmp = await Deno.stat(Deno.env.get("TMPDIR") ?? "/tmp");
    return shm.isDirectory && shm.dev !== tmp.dev;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "walk() with oneFileSystem skips a directory on another device (/dev/shm via a link)",
  ignore: !otherDevice,
  async fn() {
    const root = await tree({ "f.txt": "f" });
    const elsewhere = await Deno.makeTempDir({ dir: "/dev/shm", prefix: "ppclient-walk-" });
    try {
      await Deno.writeTextFile(`${elsewhere}/g.txt`, "g");
      await Deno.symlink(elsewhere, `${root}/shm`);
      const crossing = summarize(root, await collect(root, { followSymlinks: true }));
      assert.ok(crossing.includes("file:shm/g.txt"));
      const staying = summarize(
        root,
        await collect(root, { followSymlinks: true, oneFileSystem: true }),
      );
      assert.deepEqual(staying, ["directory:.", "file:f.txt", "skipped:other_filesystem:shm"]);
    } finally {
      await Deno.remove(root, { recursive: true });
      await Deno.remove(elsewhere, { recursive: true });
    }
  },
});

Deno.test("walk() stops between entries when its signal aborts", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 50; i++) files[`f${i}.txt`] = "x";
  const root = await tree(files);
  try {
    const controller = new AbortController();
    let count = 0;
    for await (
      const event of walk(root, {
        exclude: [],
        followSymlinks: false,
        oneFileSystem: false,
        signal: controller.signal,
      })
    ) {
      if (event.kind === "file" && ++count === 5) controller.abort();
    }
    assert.equal(count, 5);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
