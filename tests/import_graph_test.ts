/**
 * This is the check that `lib/` has no import cycle and never imports `server/` or
 * `client/`: it asks `deno info --json` for the module graph of every module under `lib/`
 * (tests beside the code included, dynamic and type-only imports included) and walks it.
 * A new cycle, or a `lib/` module reaching into the server or the client, fails it.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const graphSchema = z.object({
  modules: z.array(z.object({
    specifier: z.string(),
    dependencies: z.array(z.object({
      code: z.object({ specifier: z.string() }).optional(),
      type: z.object({ specifier: z.string() }).optional(),
    })).optional(),
  })),
});

/** Module -> the modules it imports (code or type, static or dynamic), as repository paths. */
type Graph = Map<string, string[]>;

async function libModules(dir = join(ROOT, "lib")): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) found.push(...await libModules(path));
    else if (entry.name.endsWith(".ts")) found.push(path);
  }
  return found;
}

async function libGraph(): Promise<Graph> {
  const entry = await Deno.makeTempFile({ prefix: "lib-graph-", suffix: ".ts" });
  try {
    const modules = await libModules();
    await Deno.writeTextFile(entry, modules.map((path) => `import "${path}";\n`).join(""));
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", join(ROOT, "deno.json"), entry],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const graph = graphSchema.parse(JSON.parse(new TextDecoder().decode(output.stdout)));
    const local = (specifier: string) =>
      specifier.startsWith("file://") ? relative(ROOT, fileURLToPath(specifier)) : null;
    const edges: Graph = new Map();
    for (const module of graph.modules) {
      const from = local(module.specifier);
      if (from === null || !from.startsWith("lib/")) continue;
      const to = (module.dependencies ?? [])
        .flatMap((dependency) => [dependency.code?.specifier, dependency.type?.specifier])
        .flatMap((specifier) => (specifier ? [local(specifier)] : []))
        .filter((path): path is string => path !== null);
      edges.set(from, [...new Set(to)]);
    }
    return edges;
  } finally {
    await Deno.remove(entry);
  }
}

/** One import cycle among the modules of `graph`, as a path that ends where it starts. */
export function findCycle(graph: Graph): string[] | null {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (module: string): string[] | null => {
    state.set(module, "open");
    stack.push(module);
    for (const next of graph.get(module) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(module, "done");
    return null;
  };
  for (const module of [...graph.keys()].sort()) {
    if (state.get(module) === undefined) {
      const cycle = visit(module);
      if (cycle) return cycle;
    }
  }
  return null;
}

Deno.test("findCycle() finds a cycle through several modules and none in a tree", () => {
  const tree: Graph = new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]]);
  assert.equal(findCycle(tree), null);
  const circle: Graph = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]]);
  assert.deepEqual(findCycle(circle), ["a", "b", "c", "a"]);
});

Deno.test("lib/ has no import cycle and never imports server/ or client/", async () => {
  const graph = await libGraph();
  const missing = (await libModules()).map((path) => relative(ROOT, path))
    .filter((path) => !graph.has(path));
  assert.deepEqual(missing, [], "the graph covers every module under lib/");
  const outward = [...graph].flatMap(([from, to]) =>
    to.filter((path) => /^(server|client)\//.test(path)).map((path) => `${from} -> ${path}`)
  );
  assert.deepEqual(outward, [], "lib/ imports server/ or client/");
  assert.deepEqual(findCycle(graph), null, "import cycle in lib/");
});
