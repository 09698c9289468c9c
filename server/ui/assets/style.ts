/** The web UI's one style sheet, embedded so a compiled ppserver carries it. */
export const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --fg: #1a1d23; --muted: #555e6b; --card: #ffffff; --border: #d5d9e0;
  --accent: #1f56c4; --accent-fg: #ffffff; --accent-soft: #e4ecfb; --danger: #b42318;
  --danger-soft: #fde8e6; --ok: #17703a; --ok-soft: #e3f4e8; --warn: #8a5a00; --warn-soft: #fdf1d8;
  --chart-1: #1f56c4; --chart-2: #7ea3e8; --chart-grid: #d5d9e0; --focus: #f0a000;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1115; --fg: #e5e8ec; --muted: #a0a9b6; --card: #181b21; --border: #2d333c;
    --accent: #7ea6ff; --accent-fg: #0d1322; --accent-soft: #1c2740; --danger: #ff8a80;
    --danger-soft: #3a1c1a; --ok: #6fd493; --ok-soft: #15301f; --warn: #f2c15c; --warn-soft: #33280f;
    --chart-1: #7ea6ff; --chart-2: #3d5a99; --chart-grid: #2d333c; --focus: #ffc14d;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
}
a { color: var(--accent); }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip-link { position: absolute; left: -9999px; top: 0; }
.skip-link:focus { left: 8px; top: 8px; z-index: 10; background: var(--card); padding: 8px 12px; }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
header.top {
  background: var(--card); border-bottom: 1px solid var(--border);
  display: flex; flex-wrap: wrap; align-items: center; gap: 4px 16px; padding: 8px 16px;
}
.brand { font-weight: 700; font-size: 17px; color: var(--fg); text-decoration: none; margin-right: 8px; }
.brand span { color: var(--accent); }
nav.main { flex: 1 1 auto; min-width: 0; }
nav.main ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 2px; }
nav.main a {
  display: block; padding: 6px 10px; border-radius: 6px; color: var(--fg); text-decoration: none;
}
nav.main a:hover { background: var(--accent-soft); }
nav.main a[aria-current="page"] { background: var(--accent-soft); color: var(--accent); font-weight: 600; }
.who { display: flex; align-items: center; gap: 8px; color: var(--muted); font-size: 13px; }
.who form { margin: 0; }
main { max-width: 1200px; margin: 0 auto; padding: 20px 16px 48px; }
h1 { font-size: 24px; margin: 4px 0 16px; line-height: 1.25; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 28px 0 10px; }
p.lead { color: var(--muted); margin-top: -8px; }
.muted { color: var(--muted); }
.mono, code { font-family: var(--mono); font-size: 13px; overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; margin: 0; }
.card {
  background: var(--card); border: 1px solid var(--border); border-radius: 10px; padding: 14px 16px;
}
.card dt { color: var(--muted); font-size: 13px; }
.card dd { margin: 2px 0 0; font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card dd small { display: block; font-size: 12px; font-weight: 400; color: var(--muted); }
.panel {
  background: var(--card); border: 1px solid var(--border); border-radius: 10px; padding: 16px;
  margin: 16px 0;
}
.panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); gap: 0 16px; }
.panel > h2:first-child { margin-top: 0; }
figure { margin: 0; }
.bars ul {
  list-style: none; margin: 0; padding: 0; display: grid; gap: 10px 12px; align-items: center;
  grid-template-columns: max-content 1fr max-content;
}
.bars li { display: contents; }
.bar { width: 100%; height: 24px; display: block; }
.bar-value { font-variant-numeric: tabular-nums; font-weight: 600; }
.bar-1 { fill: var(--chart-1); }
.bar-2 { fill: var(--chart-2); }
.timechart { display: grid; grid-template-columns: max-content 1fr; grid-template-rows: 220px auto auto; gap: 4px 8px; }
.tc-y { display: flex; flex-direction: column; justify-content: space-between; text-align: right; font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
.tc-plot { width: 100%; height: 100%; display: block; overflow: visible; }
.tc-plot .grid { stroke: var(--chart-grid); stroke-width: 1; }
.tc-plot .line-1 { fill: none; stroke: var(--chart-1); stroke-width: 2.5; }
.tc-plot .line-2 { fill: none; stroke: var(--chart-2); stroke-width: 2.5; stroke-dasharray: 6 4; }
.tc-plot .area-1 { fill: var(--chart-1); opacity: 0.14; }
.tc-x { grid-column: 2; display: flex; justify-content: space-between; font-size: 12px; color: var(--muted); }
.timechart .legend { grid-column: 2; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 8px 0 0; padding: 0; list-style: none; font-size: 13px; }
.legend li::before { content: ""; display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin-right: 6px; vertical-align: -1px; }
.legend .key-1::before { background: var(--chart-1); }
.legend .key-2::before { background: var(--chart-2); }
.table-wrap { overflow-x: auto; border: 1px solid var(--border); border-radius: 10px; background: var(--card); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--border); vertical-align: top; }
tbody tr:last-child td { border-bottom: 0; }
th { font-size: 13px; color: var(--muted); font-weight: 600; white-space: nowrap; background: var(--card); }
td.num, th.num { text-align: right; white-space: nowrap; }
td.path { overflow-wrap: anywhere; min-width: 12em; }
tbody tr:hover { background: var(--accent-soft); }
th button.sort {
  all: unset; cursor: pointer; display: inline-flex; align-items: center; gap: 4px; color: inherit;
}
th button.sort:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
th button.sort::after { content: "↕"; opacity: 0.45; font-size: 11px; }
th[aria-sort="ascending"] button.sort::after { content: "▲"; opacity: 1; }
th[aria-sort="descending"] button.sort::after { content: "▼"; opacity: 1; }
.icon { width: 1.05em; height: 1.05em; fill: currentColor; vertical-align: -2px; margin-right: 2px; }
.crumbs ol { list-style: none; display: flex; flex-wrap: wrap; gap: 2px; margin: 0 0 12px; padding: 0; }
.crumbs li:not(:last-child)::after { content: "/"; margin: 0 6px; color: var(--muted); }
.crumbs a { overflow-wrap: anywhere; }
form.filters, form.fields {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 10px 14px;
  align-items: end; background: var(--card); border: 1px solid var(--border); border-radius: 10px;
  padding: 14px 16px; margin: 0 0 16px;
}
form.fields { background: transparent; border: 0; padding: 0; margin: 0; }
form.filters .wide { grid-column: 1 / -1; }
label { display: block; font-size: 13px; font-weight: 600; margin-bottom: 4px; }
.hint { display: block; font-size: 12px; color: var(--muted); font-weight: 400; }
input[type="text"], input[type="search"], input[type="password"], input[type="number"],
input[type="datetime-local"], select, textarea {
  width: 100%; padding: 8px 10px; border: 1px solid var(--border); border-radius: 8px;
  background: var(--bg); color: var(--fg); font: inherit;
}
button, .button {
  display: inline-block; padding: 8px 14px; border-radius: 8px; border: 1px solid var(--accent);
  background: var(--accent); color: var(--accent-fg); font: inherit; font-weight: 600; cursor: pointer;
  text-decoration: none;
}
button.secondary, .button.secondary { background: transparent; color: var(--accent); }
button.danger { background: transparent; color: var(--danger); border-color: var(--danger); }
button.small, .button.small { padding: 3px 10px; font-size: 13px; }
.actions { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.actions form { margin: 0; }
.notice { border-radius: 10px; padding: 12px 16px; margin: 0 0 16px; border: 1px solid; }
.notice.error { background: var(--danger-soft); border-color: var(--danger); }
.notice.ok { background: var(--ok-soft); border-color: var(--ok); }
.notice.warn { background: var(--warn-soft); border-color: var(--warn); }
.secret {
  display: block; padding: 10px 12px; margin: 8px 0; border-radius: 8px; background: var(--bg);
  border: 1px dashed var(--ok); font-family: var(--mono); font-size: 14px; overflow-wrap: anywhere;
}
.badge {
  display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600;
  border: 1px solid var(--border); white-space: nowrap;
}
.badge.ok { color: var(--ok); border-color: var(--ok); }
.badge.danger { color: var(--danger); border-color: var(--danger); }
.badge.warn { color: var(--warn); border-color: var(--warn); }
.pager { display: flex; gap: 10px; align-items: center; margin: 12px 0; flex-wrap: wrap; }
.signin { max-width: 440px; margin: 10vh auto 0; }
.signin .panel { padding: 24px; }
.signin h1 { text-align: center; }
.signin button { width: 100%; margin-top: 12px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.empty { padding: 20px; text-align: center; color: var(--muted); }
@media (max-width: 560px) {
  main { padding: 14px 10px 40px; }
  header.top { padding: 8px 10px; }
  nav.main { order: 3; flex-basis: 100%; }
  nav.main a { white-space: nowrap; padding: 4px 8px; }
  th, td { padding: 6px 8px; }
  .card dd { font-size: 19px; }
  .cards { grid-template-columns: 1fr 1fr; gap: 8px; }
  .card { padding: 10px 12px; }
  dl.facts { grid-template-columns: 1fr; gap: 0 0; }
  dl.facts dd { margin-bottom: 8px; }
  .hide-narrow { display: none; }
}
`;
