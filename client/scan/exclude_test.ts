import assert from "node:assert/strict";
import { compileExclude, globToRegExp, isExcluded } from "./exclude.ts";

const matches = (pattern: string, path: string, isDirectory = false) =>
  compileExclude(pattern).matches(path, isDirectory);

Deno.test("a plain pattern matches a whole path component at any depth", () => {
  assert.equal(matches(".git", ".git", true), true);
  assert.equal(matches(".git", "src/.git", true), true);
  assert.equal(matches(".git", "src/.git/objects/ab", false), true);
  assert.equal(matches(".git", ".gitignore"), false);
  assert.equal(matches(".git", "src/my.git"), false);
  assert.equal(matches("node_modules", "a/node_modules/b/c.js"), true);
});

Deno.test("a plain pattern with a slash matches that relative path only", () => {
  assert.equal(matches("build/out", "build/out", true), true);
  assert.equal(matches("build/out", "src/build/out", true), false);
  assert.equal(matches("/build", "build", true), true);
});

Deno.test("* and ? match within one component and never cross a slash", () => {
  assert.equal(matches("build/*.o", "build/main.o"), true);
  assert.equal(matches("build/*.o", "build/sub/main.o"), false);
  assert.equal(matches("build/?.o", "build/a.o"), true);
  assert.equal(matches("build/?.o", "build/ab.o"), false);
});

Deno.test("a glob without a slash applies at any depth", () => {
  assert.equal(matches("*.pyc", "a.pyc"), true);
  assert.equal(matches("*.pyc", "pkg/sub/a.pyc"), true);
  assert.equal(matches("*.pyc", "pkg/a.pyc.txt"), false);
  assert.equal(matches("cache-?", "x/cache-1", true), true);
});

Deno.test("** matches any number of directories, including none", () => {
  assert.equal(matches("**/tmp", "tmp", true), true);
  assert.equal(matches("**/tmp", "a/b/tmp", true), true);
  assert.equal(matches("logs/**", "logs/a/b.log"), true);
  assert.equal(matches("logs/**", "logs", true), false);
  assert.equal(matches("a/**/z", "a/z"), true);
  assert.equal(matches("a/**/z", "a/b/c/z"), true);
  assert.equal(matches("a/**/z", "b/a/z"), false);
});

Deno.test("[...] classes match one character, [!...] negates", () => {
  assert.equal(matches("file[0-9].txt", "file7.txt"), true);
  assert.equal(matches("file[0-9].txt", "filex.txt"), false);
  assert.equal(matches("file[!0-9].txt", "filex.txt"), true);
  assert.equal(matches("file[!0-9].txt", "file7.txt"), false);
});

Deno.test("a trailing slash limits a pattern to directories", () => {
  assert.equal(matches("cache/", "a/cache", true), true);
  assert.equal(matches("cache/", "a/cache", false), false);
});

Deno.test("regex metacharacters in patterns are literal", () => {
  assert.equal(matches("a+b(1).*", "a+b(1).txt"), true);
  assert.equal(matches("a+b(1).*", "aab(1).txt"), false);
  assert.equal(globToRegExp("x.y").test("xzy"), false);
});

Deno.test("isExcluded() is true when any rule matches and never for the scan root", () => {
  const rules = [".git", "*.log"].map(compileExclude);
  assert.equal(isExcluded(rules, "a/b.log", false), true);
  assert.equal(isExcluded(rules, "a/b.txt", false), false);
  assert.equal(isExcluded(rules, "", true), false);
});
