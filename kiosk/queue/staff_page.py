"""The window staff's page (``GET /staff``): pick the window, call the next number, mark the
resident served or absent; it also shows the waiting per category and the latest calls.

One self-contained HTML file (no external scripts or fonts, it runs on the hall network); it
talks to the API in :mod:`kiosk.queue.api` with ``fetch`` and writes text with
``textContent`` only, never HTML.
"""

STAFF_HTML = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>窗口叫号</title>
<style>
  body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 0;
         background: #f3f5f9; color: #1b1f24; }
  header { background: #1f5fbf; color: #fff; padding: 12px 20px; font-size: 22px; }
  main { display: grid; grid-template-columns: 2fr 1fr; gap: 16px; padding: 16px; }
  section { background: #fff; border-radius: 8px; padding: 16px; }
  #current { font-size: 72px; font-weight: bold; text-align: center; margin: 16px 0; }
  #current-info { text-align: center; min-height: 1.5em; }
  .buttons { display: flex; gap: 12px; justify-content: center; margin-top: 16px; }
  button { font-size: 22px; padding: 14px 26px; border: 0; border-radius: 6px; cursor: pointer;
           min-width: 140px; }
  #call { background: #1f5fbf; color: #fff; }
  #served { background: #2e7d32; color: #fff; }
  #noshow { background: #b26a00; color: #fff; }
  button:disabled { background: #9aa4b1; }
  select { font-size: 20px; padding: 6px; }
  #message { color: #b00020; min-height: 1.4em; text-align: center; }
  table { width: 100%; border-collapse: collapse; font-size: 18px; }
  td, th { padding: 6px; border-bottom: 1px solid #e3e7ee; text-align: left; }
</style>
</head>
<body>
<header>窗口叫号 · <label>窗口 <select id="window"></select></label>
  <span id="serves"></span></header>
<main>
  <section>
    <div id="current">—</div>
    <div id="current-info"></div>
    <div class="buttons">
      <button id="call">叫下一位</button>
      <button id="served" disabled>办结</button>
      <button id="noshow" disabled>过号</button>
    </div>
    <p id="message" role="status"></p>
  </section>
  <section>
    <h3>等待人数</h3>
    <table><tbody id="categories"></tbody></table>
    <h3>最近叫号</h3>
    <table><tbody id="calls"></tbody></table>
  </section>
</main>
<script>
"use strict";
const API = "/api/v1";
const $ = (id) => document.getElementById(id);
let current = null;

async function api(method, path, body) {
  const response = await fetch(API + path, {
    method, headers: {"Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body)});
  const data = await response.json();
  if (!response.ok) { throw new Error(data.error ? data.error.message : response.status); }
  return data;
}

function newId() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }

function row(cells) {
  const tr = document.createElement("tr");
  for (const text of cells) { const td = document.createElement("td");
    td.textContent = text; tr.appendChild(td); }
  return tr;
}

function show(ticket) {
  current = ticket;
  $("current").textContent = ticket ? ticket.number : "—";
  $("current-info").textContent = ticket ? [ticket.category_name, ticket.holder,
    ticket.priority === "green" ? "绿色通道" : ticket.priority === "appointment" ? "预约" : ""]
    .filter(Boolean).join(" · ") : "暂无叫号";
  $("served").disabled = $("noshow").disabled = !ticket;
}

async function refresh() {
  try {
    const windows = await api("GET", "/windows");
    const select = $("window");
    if (!select.options.length) {
      for (const w of windows) { const o = document.createElement("option");
        o.value = w.id; o.textContent = w.name; select.appendChild(o); }
      const saved = localStorage.getItem("window");
      if (saved) { select.value = saved; }
    }
    const mine = windows.find((w) => w.id === select.value);
    if (mine) { $("serves").textContent = "办理：" + mine.categories.join("、");
      show(mine.current); }
    const cats = await api("GET", "/categories");
    $("categories").replaceChildren(...cats.map((c) => row([c.code + " " + c.name,
      c.waiting + " 人"])));
    const calls = await api("GET", "/calls?limit=8");
    $("calls").replaceChildren(...calls.map((t) => row([t.number, t.window, t.state])));
  } catch (error) { $("message").textContent = "刷新失败：" + error.message; }
}

async function act(method, path, body) {
  $("message").textContent = "";
  try { return await api(method, path, body); }
  catch (error) { $("message").textContent = error.message; return null; }
  finally { refresh(); }
}

$("window").addEventListener("change", () => {
  localStorage.setItem("window", $("window").value); refresh(); });
$("call").addEventListener("click", async () => {
  const result = await act("POST", "/windows/" + encodeURIComponent($("window").value) +
    "/call-next", {request_id: newId()});
  if (result) { show(result.ticket);
    if (!result.ticket) { $("message").textContent = "当前没有等待的号"; } }
});
$("served").addEventListener("click", () => current &&
  act("POST", "/tickets/" + current.id + "/served", {}));
$("noshow").addEventListener("click", () => current &&
  act("POST", "/tickets/" + current.id + "/no-show", {}));
refresh();
setInterval(refresh, 3000);
</script>
</body>
</html>
"""
